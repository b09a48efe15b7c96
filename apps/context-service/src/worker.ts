import { runService } from '@te/platform';
import { createContextServiceApp } from './app.js';
import { loadContextServiceConfig } from './config.js';

// context-service worker: the same image as main.ts, another command (`node dist/worker.js`). It
// consumes only the OCR and async reply work queues (no gRPC API, no lifecycle jobs); its gRPC port serves health only.
runService({
  loadConfig: loadContextServiceConfig,
  createApp: (config, deps) => createContextServiceApp(config, { ...deps, role: 'worker' }),
});
