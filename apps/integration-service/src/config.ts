import { loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import type { z } from 'zod';

/** Every variable integration-service reads (the common service ones for now). Start-up lists each bad one. */
export const integrationServiceConfigSchema = serviceConfigSchema({
  name: 'integration-service',
  grpcPort: 50054,
  httpPort: 8084,
  database: 'te_integration',
});

export type IntegrationServiceConfig = z.infer<typeof integrationServiceConfigSchema>;

export function loadIntegrationServiceConfig(
  environment: NodeJS.ProcessEnv = process.env,
): IntegrationServiceConfig {
  return loadConfig(integrationServiceConfigSchema, environment);
}
