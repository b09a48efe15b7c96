import { runService } from '@te/platform';
import { createAiGatewayServiceApp } from './app.js';
import { loadAiGatewayServiceConfig } from './config.js';

// ai-gateway-service worker: the same image as main.ts, another command (`node dist/worker.js`). It
// consumes only the queued-inference work queue (no gRPC API, no maintenance jobs); its gRPC port
// serves health only. Every process declares the queue, so jobs wait while no worker runs.
runService({
  loadConfig: loadAiGatewayServiceConfig,
  createApp: (config, deps) => createAiGatewayServiceApp(config, { ...deps, role: 'worker' }),
});
