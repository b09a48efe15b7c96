import { loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import type { z } from 'zod';

/** Every variable context-service reads (the common service ones for now). Start-up lists each bad one. */
export const contextServiceConfigSchema = serviceConfigSchema({
  name: 'context-service',
  grpcPort: 50052,
  httpPort: 8082,
  database: 'te_context',
});

export type ContextServiceConfig = z.infer<typeof contextServiceConfigSchema>;

export function loadContextServiceConfig(environment: NodeJS.ProcessEnv = process.env): ContextServiceConfig {
  return loadConfig(contextServiceConfigSchema, environment);
}
