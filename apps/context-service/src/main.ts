import { runService } from '@te/platform';
import { createContextServiceApp } from './app.js';
import { loadContextServiceConfig } from './config.js';

// context-service: config → logger → telemetry → app → SIGTERM handling → start (see runService).
runService({ loadConfig: loadContextServiceConfig, createApp: createContextServiceApp });
