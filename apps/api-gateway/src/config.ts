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
  INTEGRATION_SERVICE_ADDR: z
    .string()
    .min(1)
    .default('127.0.0.1:50054')
    .describe('integration-service (inbound webhooks: /api/v1/integrations/inbound/:source)'),
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
  INBOUND_WEBHOOK_MAX_BYTES: env
    .positiveInt(1024 * 1024)
    .describe(
      "largest inbound webhook body, in bytes (413 beyond it); keep it ≤ integration-service's INBOUND_MAX_BODY_BYTES",
    ),
  // GET /api/v1/events (server-sent events from integration-service's EventStream; decision 0021-event-stream).
  EVENTS_HEARTBEAT_MS: env
    .positiveInt(15_000)
    .describe('an SSE comment this often on an idle event stream, so proxies keep the connection'),
  EVENTS_STREAM_MAX_MS: env
    .positiveInt(30 * 60_000)
    .describe(
      'an event stream ends after this long; the client reconnects with Last-Event-ID (credentials re-checked)',
    ),
  EVENTS_RETRY_MS: env
    .positiveInt(3_000)
    .describe('the SSE `retry:` hint: how long clients wait to reconnect'),
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
  // The edge (decision 0023-gateway-edge): rate limits (GCRA in Redis), Idempotency-Key, circuit breakers.
  RATE_LIMIT_ENABLED: env.boolean(true).describe('edge rate limits on /api/v1 and /v1'),
  RATE_LIMIT_AUTH_PER_MINUTE: env
    .positiveInt(30)
    .describe(
      'sign-in, refresh, OIDC and password changes, per client IP (user-service throttles per account)',
    ),
  RATE_LIMIT_AUTH_BURST: env.positiveInt(10).describe('requests of the auth class allowed at once, per IP'),
  RATE_LIMIT_UPLOAD_PER_MINUTE: env.positiveInt(30).describe('attachment uploads per principal'),
  RATE_LIMIT_UPLOAD_BURST: env.positiveInt(10),
  RATE_LIMIT_INFERENCE_PER_MINUTE: env
    .positiveInt(60)
    .describe('message posts and /v1/chat/completions per principal (the API key, else the user)'),
  RATE_LIMIT_INFERENCE_BURST: env.positiveInt(20),
  RATE_LIMIT_DEFAULT_PER_MINUTE: env.positiveInt(600).describe('every other route per principal'),
  RATE_LIMIT_DEFAULT_BURST: env.positiveInt(120),
  RATE_LIMIT_IP_PER_MINUTE: env
    .positiveInt(1_200)
    .describe('every request under /api/v1 and /v1 per client IP, before authentication (flood guard)'),
  RATE_LIMIT_IP_BURST: env.positiveInt(300),
  RATE_LIMIT_REDIS_TIMEOUT_MS: env
    .positiveInt(100)
    .describe('a rate-limit or idempotency lookup slower than this counts as Redis unavailable'),
  IDEMPOTENCY_TTL_SECONDS: env
    .positiveInt(24 * 3600)
    .describe('how long the answer to a POST with an Idempotency-Key is replayed'),
  IDEMPOTENCY_LOCK_SECONDS: env
    .positiveInt(180)
    .describe('longest an unfinished request holds its key (keep above REPLY_DEADLINE_MS)'),
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: env
    .positiveInt(5)
    .describe('consecutive UNAVAILABLE/DEADLINE_EXCEEDED answers of a service that open its circuit'),
  CIRCUIT_BREAKER_OPEN_MS: env
    .positiveInt(5_000)
    .describe('an open circuit answers 503 at once this long, then lets one probe call through'),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSchema, environment);
}
