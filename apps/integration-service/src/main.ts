import { runService } from '@te/platform';
import { createIntegrationServiceApp } from './app.js';
import { loadIntegrationServiceConfig } from './config.js';

// integration-service: config → logger → telemetry → app → SIGTERM handling → start (see runService).
runService({ loadConfig: loadIntegrationServiceConfig, createApp: createIntegrationServiceApp });
