import { runService } from '@te/platform';
import { createGatewayApp } from './app.js';
import { loadGatewayConfig } from './config.js';

// api-gateway: config → logger → telemetry → app → SIGTERM handling → start (see runService).
runService({ loadConfig: loadGatewayConfig, createApp: createGatewayApp });
