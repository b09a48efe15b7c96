import { runService } from '@te/platform';
import { createAiGatewayServiceApp } from './app.js';
import { loadAiGatewayServiceConfig } from './config.js';

// ai-gateway-service: config → logger → telemetry → app → SIGTERM handling → start (see runService).
runService({ loadConfig: loadAiGatewayServiceConfig, createApp: createAiGatewayServiceApp });
