import { loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import type { z } from 'zod';

/** Every variable ai-gateway-service reads (the common service ones for now). Start-up lists each bad one. */
export const aiGatewayServiceConfigSchema = serviceConfigSchema({
  name: 'ai-gateway-service',
  grpcPort: 50053,
  httpPort: 8083,
  database: 'te_ai_gateway',
});

export type AiGatewayServiceConfig = z.infer<typeof aiGatewayServiceConfigSchema>;

export function loadAiGatewayServiceConfig(
  environment: NodeJS.ProcessEnv = process.env,
): AiGatewayServiceConfig {
  return loadConfig(aiGatewayServiceConfigSchema, environment);
}
