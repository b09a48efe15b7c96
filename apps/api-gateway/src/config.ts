import { commonConfigSchema, env, loadConfig } from '@te/platform';
import { z } from 'zod';

/** Every variable the gateway reads. Start-up fails listing each bad one. */
export const gatewayConfigSchema = commonConfigSchema.extend({
  SERVICE_NAME: z.string().default('api-gateway'),
  HTTP_PORT: env.port(8080).describe('public port: /api/v1, /healthz, /readyz'),
  OPS_PORT: env.port(9080).describe('internal port: /healthz, /readyz (detailed), /metrics'),
  USER_SERVICE_ADDR: z.string().min(1).default('127.0.0.1:50051'),
  GRPC_DEADLINE_MS: env.milliseconds(5_000).describe('default deadline of calls to services'),
  CORS_ORIGINS: env.list().describe('comma-separated origins allowed by CORS; empty allows none'),
  JWT_ISSUER: z.string().min(1).default('https://te-explico.local'),
  JWT_AUDIENCE: z.string().min(1).default('te-explico-api'),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  JSON_BODY_LIMIT: z.string().default('100kb'),
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .describe("Express 'trust proxy' setting (client IPs behind a load balancer)"),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSchema, environment);
}
