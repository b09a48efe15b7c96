import { commonConfigSchema, env, loadConfig } from '@te/platform';
import { z } from 'zod';

/** Every variable the gateway reads. Start-up fails listing each bad one. */
export const gatewayConfigSchema = commonConfigSchema.extend({
  SERVICE_NAME: z.string().default('api-gateway'),
  HTTP_PORT: env.port(8080).describe('public port: /api/v1, /healthz, /readyz'),
  OPS_PORT: env.port(9080).describe('internal port: /healthz, /readyz (detailed), /metrics'),
  USER_SERVICE_ADDR: z.string().min(1).default('127.0.0.1:50051'),
  CONTEXT_SERVICE_ADDR: z
    .string()
    .min(1)
    .default('127.0.0.1:50052')
    .describe('context-service (conversations: /api/v1/sessions)'),
  AI_GATEWAY_SERVICE_ADDR: z
    .string()
    .min(1)
    .default('127.0.0.1:50053')
    .describe('ai-gateway-service (model catalog: /api/v1/models)'),
  REDIS_URL: env.url().default('redis://127.0.0.1:6379').describe('session revocations, caches, rate limits'),
  REDIS_KEY_PREFIX: z.string().default('te:gateway:'),
  // Events: the gateway consumes `session.revoked` (its revocation list; src/auth/session-revoked.consumer.ts).
  AMQP_URL: env.url().default('amqp://guest:guest@127.0.0.1:5672?heartbeat=10'),
  AMQP_EXCHANGE: z.string().min(1).default('te.events'),
  AMQP_QUEUE_PREFIX: z.string().default(''),
  GRPC_DEADLINE_MS: env.milliseconds(5_000).describe('default deadline of calls to services'),
  REPLY_DEADLINE_MS: env
    .positiveInt(75_000)
    .describe(
      "deadline of a message's reply (PostMessage in sync mode, the whole PostMessageStream); keep it above context-service's AI_GATEWAY_INFER_DEADLINE_MS",
    ),
  CORS_ORIGINS: env.list().describe('comma-separated origins allowed by CORS; empty allows none'),
  JWT_ISSUER: z.string().min(1).default('https://te-explico.local'),
  JWT_AUDIENCE: z.string().min(1).default('te-explico-api'),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  JWKS_REFRESH_SECONDS: env
    .positiveInt(300)
    .describe(
      "signing keys are re-read this often (keep below user-service's JWT_KEY_PUBLISH_AHEAD_SECONDS)",
    ),
  JSON_BODY_LIMIT: z.string().default('100kb'),
  // Screenshots (POST /api/v1/sessions/:id/attachments, multipart/form-data).
  ATTACHMENT_MAX_BYTES: env
    .positiveInt(10 * 1024 * 1024)
    .describe("largest uploaded file, in bytes (413 beyond it); keep it ≤ context-service's own"),
  ATTACHMENT_UPLOAD_DEADLINE_MS: env
    .milliseconds(30_000)
    .describe('deadline of the upload call to context-service (it decodes and normalises the image)'),
  // API keys resolved through user-service are cached in memory (src/auth/api-key.cache.ts).
  API_KEY_CACHE_MAX_ENTRIES: env.positiveInt(10_000).describe('resolved API keys kept per gateway'),
  API_KEY_CACHE_MAX_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300)
    .default(60)
    .describe(
      "ceiling over user-service's API_KEY_CACHE_TTL_SECONDS: how long a revoked key may still work here",
    ),
  API_KEY_NEGATIVE_CACHE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60)
    .default(5)
    .describe('how long an invalid API key is remembered as invalid'),
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .describe("Express 'trust proxy' setting (client IPs behind a load balancer)"),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSchema, environment);
}
