import { runService } from '@te/platform';
import { createUserServiceApp } from './app.js';
import { loadUserServiceConfig } from './config.js';

// user-service: config → logger → telemetry → app → SIGTERM handling → start (see runService).
runService({ loadConfig: loadUserServiceConfig, createApp: createUserServiceApp });
