import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RabbitMqEventBus } from '@te/events';
import { grpcHealthCheck } from '@te/grpc';
import {
  closeInOrder,
  closeRedis,
  createLogger,
  createMetrics,
  createOpsServer,
  createRedis,
  Health,
  redisReadinessCheck,
  type Logger,
} from '@te/platform';
import { ApiKeyCache } from './auth/api-key.cache.js';
import { createApiKeyStrategy, exceptApiKeys, resolveWithUserService } from './auth/api-key.strategy.js';
import { createJwtStrategy } from './auth/jwt.strategy.js';
import { JwksCache } from './auth/jwks.cache.js';
import { createRequireAuth } from './auth/require-auth.middleware.js';
import { SessionRevocations } from './auth/session-revocations.js';
import { sessionRevokedSubscription } from './auth/session-revoked.consumer.js';
import { createAiGatewayClient } from './clients/ai-gateway.client.js';
import { CircuitBreaker, guardClient } from './clients/circuit-breaker.js';
import { createContextServiceClient } from './clients/context-service.client.js';
import { createIntegrationServiceClient } from './clients/integration-service.client.js';
import { createUserServiceClient } from './clients/user-service.client.js';
import type { GatewayConfig } from './config.js';
import { createHttpApp } from './http/http-server.js';
import { idempotency } from './http/idempotency.middleware.js';
import { RateLimiter, withAfterAuth } from './http/rate-limit.middleware.js';
import { RateLimitStore } from './http/rate-limit.store.js';

export interface GatewayApp {
  start(): Promise<{ httpPort: number; opsPort: number }>;
  stop(): Promise<void>;
  readonly health: Health;
  readonly logger: Logger;
}

/** Composition root: builds every part of the gateway from its config; nothing starts until start(). */
export function createGatewayApp(config: GatewayConfig, options: { logger?: Logger } = {}): GatewayApp {
  const logger = options.logger ?? createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const metrics = createMetrics({ service: config.SERVICE_NAME });
  const health = new Health();

  // The upstream services over gRPC. Each gets a circuit breaker (an open one answers 503 at once,
  // decision 0023-gateway-edge) and a readiness check that is reported, not deciding: while one is
  // down the gateway still answers, with 503 in the envelope on the routes that need it.
  const upstreams: { name: string; close: () => void }[] = [];
  const upstream = <T extends { close(): void }>(name: string, address: string, client: T): T => {
    const healthCheck = grpcHealthCheck(address);
    health.addReadinessCheck(name, healthCheck, { critical: false });
    upstreams.push({
      name,
      close: () => {
        client.close();
        healthCheck.close();
      },
    });
    return guardClient(client, circuitBreaker(name, config, logger), name);
  };
  const grpcOptions = { logger, metrics, deadlineMs: config.GRPC_DEADLINE_MS };
  const users = upstream(
    'user-service',
    config.USER_SERVICE_ADDR,
    createUserServiceClient(config.USER_SERVICE_ADDR, grpcOptions),
  );
  const contexts = upstream(
    'context-service',
    config.CONTEXT_SERVICE_ADDR,
    createContextServiceClient(config.CONTEXT_SERVICE_ADDR, {
      ...grpcOptions,
      replyDeadlineMs: config.REPLY_DEADLINE_MS,
    }),
  );
  const ai = upstream(
    'ai-gateway-service',
    config.AI_GATEWAY_SERVICE_ADDR,
    createAiGatewayClient(config.AI_GATEWAY_SERVICE_ADDR, {
      ...grpcOptions,
      inferDeadlineMs: config.REPLY_DEADLINE_MS, // /v1/chat/completions
    }),
  );
  const integrations = upstream(
    'integration-service',
    config.INTEGRATION_SERVICE_ADDR,
    createIntegrationServiceClient(config.INTEGRATION_SERVICE_ADDR, grpcOptions),
  );
  const redis = createRedis({
    url: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    logger,
    name: config.SERVICE_NAME,
  });
  health.addReadinessCheck('redis', redisReadinessCheck(redis));
  // Edge rate limits and Idempotency-Key (decision 0023-gateway-edge), in the gateway's Redis prefix.
  const rateLimiter = config.RATE_LIMIT_ENABLED
    ? new RateLimiter({
        store: new RateLimitStore(redis, config.RATE_LIMIT_REDIS_TIMEOUT_MS),
        limits: rateLimits(config),
        logger,
        metrics,
      })
    : undefined;
  const afterAuth = [
    ...(rateLimiter ? [rateLimiter.byPrincipal()] : []),
    idempotency({
      redis,
      ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
      lockSeconds: config.IDEMPOTENCY_LOCK_SECONDS,
      timeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
      logger,
    }),
  ];
  // Revoked sessions (logout, password change, refresh-token reuse, account deletion), shared by every
  // replica in Redis; fed by the routes that end sessions and by user-service's `session.revoked`.
  const revocations = new SessionRevocations(redis);
  const bus = new RabbitMqEventBus({
    url: config.AMQP_URL,
    exchange: config.AMQP_EXCHANGE,
    queuePrefix: config.AMQP_QUEUE_PREFIX,
    logger,
    metrics,
    connectionName: config.SERVICE_NAME,
  });
  // Reported, not deciding: tokens keep verifying while the broker is away (events wait in the outbox).
  health.addReadinessCheck('rabbitmq', bus.readinessCheck(), { critical: false });

  const jwks = new JwksCache({
    fetchKeys: async () => (await users.getJwks()).keys ?? [],
    logger,
    refreshIntervalMs: config.JWKS_REFRESH_SECONDS * 1000,
  });
  health.addReadinessCheck('signing-keys', () => jwks.ensureLoaded());
  const strategy = createJwtStrategy(
    jwks,
    {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    },
    revocations,
  );

  // API keys (`X-API-Key` or `Authorization: Bearer tek_…`), resolved by user-service, cached briefly.
  const apiKeyCache = new ApiKeyCache({
    resolve: resolveWithUserService(users),
    maxEntries: config.API_KEY_CACHE_MAX_ENTRIES,
    maxTtlMs: config.API_KEY_CACHE_MAX_TTL_SECONDS * 1000,
    negativeTtlMs: config.API_KEY_NEGATIVE_CACHE_SECONDS * 1000,
  });

  const app = createHttpApp({
    logger,
    metrics,
    health,
    users,
    contexts,
    ai,
    integrations,
    inboundWebhookMaxBytes: config.INBOUND_WEBHOOK_MAX_BYTES,
    events: {
      heartbeatMs: config.EVENTS_HEARTBEAT_MS,
      maxStreamMs: config.EVENTS_STREAM_MAX_MS,
      retryMs: config.EVENTS_RETRY_MS,
    },
    // After authentication: the per-principal rate limit, then Idempotency-Key.
    requireAuth: withAfterAuth(
      createRequireAuth([
        ['jwt', exceptApiKeys(strategy)],
        ['api-key', createApiKeyStrategy(apiKeyCache)],
      ]),
      ...afterAuth,
    ),
    ...(rateLimiter && { rateLimitByClientIp: rateLimiter.byClientIp() }),
    apiKeyCache,
    revocations,
    corsOrigins: config.CORS_ORIGINS,
    jsonBodyLimit: config.JSON_BODY_LIMIT,
    attachments: {
      maxBytes: config.ATTACHMENT_MAX_BYTES,
      uploadDeadlineMs: config.ATTACHMENT_UPLOAD_DEADLINE_MS,
    },
    trustProxy: config.TRUST_PROXY,
  });
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, app);
  server.keepAliveTimeout = 65_000; // above common load-balancer idle timeouts (60 s)
  const ops = createOpsServer({ port: config.OPS_PORT, host: config.HTTP_HOST, health, metrics, logger });

  return {
    health,
    logger,
    async start() {
      await redis.connect();
      await bus.connect();
      await bus.subscribe(sessionRevokedSubscription(revocations, logger));
      await jwks.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
      });
      const httpPort = (server.address() as AddressInfo).port;
      const opsPort = await ops.start();
      logger.info('api-gateway started', {
        http_port: httpPort,
        ops_port: opsPort,
        user_service: config.USER_SERVICE_ADDR,
        context_service: config.CONTEXT_SERVICE_ADDR,
        ai_gateway_service: config.AI_GATEWAY_SERVICE_ADDR,
        integration_service: config.INTEGRATION_SERVICE_ADDR,
      });
      return { httpPort, opsPort };
    },
    async stop() {
      await closeInOrder(logger, [
        [
          'http server (drain in-flight requests)',
          () => closeHttpServer(server, Math.floor(config.SHUTDOWN_GRACE_MS / 2)),
        ],
        ['signing key refresh', async () => jwks.stop()],
        ['event bus (drain in-flight handlers)', () => bus.close()],
        ...upstreams.map(({ name, close }): [string, () => Promise<void>] => [
          `${name} client`,
          async () => close(),
        ]),
        ['redis', () => closeRedis(redis)],
        ['ops server', () => ops.stop()],
      ]);
    },
  };
}

function rateLimits(config: GatewayConfig) {
  return {
    classes: {
      auth: { perMinute: config.RATE_LIMIT_AUTH_PER_MINUTE, burst: config.RATE_LIMIT_AUTH_BURST },
      upload: { perMinute: config.RATE_LIMIT_UPLOAD_PER_MINUTE, burst: config.RATE_LIMIT_UPLOAD_BURST },
      inference: {
        perMinute: config.RATE_LIMIT_INFERENCE_PER_MINUTE,
        burst: config.RATE_LIMIT_INFERENCE_BURST,
      },
      default: { perMinute: config.RATE_LIMIT_DEFAULT_PER_MINUTE, burst: config.RATE_LIMIT_DEFAULT_BURST },
    },
    ip: { perMinute: config.RATE_LIMIT_IP_PER_MINUTE, burst: config.RATE_LIMIT_IP_BURST },
  };
}

function circuitBreaker(service: string, config: GatewayConfig, logger: Logger): CircuitBreaker {
  return new CircuitBreaker(
    { failureThreshold: config.CIRCUIT_BREAKER_FAILURE_THRESHOLD, openMs: config.CIRCUIT_BREAKER_OPEN_MS },
    (state) =>
      state === 'open'
        ? logger.warn('circuit opened: failing fast', {
            upstream: service,
            open_ms: config.CIRCUIT_BREAKER_OPEN_MS,
          })
        : logger.info(`circuit ${state}`, { upstream: service }),
  );
}

// close() stops accepting and resolves once every connection has ended. In-flight requests finish;
// a keep-alive connection is closed as soon as it is idle — at once, and again as each in-flight
// response completes (swept every 100 ms), so it never holds shutdown for the keep-alive timeout.
// Connections still open after `forceAfterMs` (a request that never ends, a client that connected and
// sent nothing) are cut, so the rest of the shutdown runs within the grace period.
function closeHttpServer(server: http.Server, forceAfterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
    server.close((error) => {
      clearInterval(sweep);
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
