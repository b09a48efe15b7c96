import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { createOpsHandler, type Health, type Logger, type Metrics } from '@te/platform';
import type { ApiKeyCache } from '../auth/api-key.cache.js';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { SessionRevocations } from '../auth/session-revocations.js';
import type { AiGatewayClient } from '../clients/ai-gateway.client.js';
import type { ContextServiceClient } from '../clients/context-service.client.js';
import type { IntegrationServiceClient } from '../clients/integration-service.client.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { apiReferenceRoutes, openApiRoutes } from '../openapi/docs.routes.js';
import { recordScopes } from '../openapi/operation.js';
import { registeredRoutes } from '../openapi/route-walk.js';
import { accountSecurityRoutes } from '../routes/account-security.routes.js';
import { adminRoutes } from '../routes/admin.routes.js';
import { apiKeyRoutes } from '../routes/api-keys.routes.js';
import { attachmentRoutes, type AttachmentLimits } from '../routes/attachments.routes.js';
import { authRoutes } from '../routes/auth.routes.js';
import { connectorRoutes } from '../routes/connectors.routes.js';
import { eventRoutes, type EventStreamLimits } from '../routes/events.routes.js';
import { inboundWebhookRoutes } from '../routes/inbound-webhooks.routes.js';
import { modelsAdminRoutes } from '../routes/models-admin.routes.js';
import { modelRoutes } from '../routes/models.routes.js';
import { oidcRoutes } from '../routes/oidc.routes.js';
import { openAiCompatibleRoutes } from '../routes/openai-compatible.routes.js';
import { sessionRoutes } from '../routes/sessions.routes.js';
import { usageRoutes } from '../routes/usage.routes.js';
import { userRoutes } from '../routes/users.routes.js';
import { webhookRoutes } from '../routes/webhooks.routes.js';
import { wellKnownRoutes } from '../routes/well-known.routes.js';
import { errorHandler, notFound } from './error-handler.middleware.js';
import { jsonBody } from './json-body.js';
import { observability, recordRouteBase } from './observability.middleware.js';
import { requestContext } from './request-context.middleware.js';

export interface HttpAppDeps {
  logger: Logger;
  metrics: Metrics;
  health: Health;
  users: UserServiceClient;
  /** context-service: the caller's conversations. */
  contexts: ContextServiceClient;
  /** ai-gateway-service: the model catalog and the registry's administration. */
  ai: AiGatewayClient;
  /** integration-service: signed webhook deliveries from third parties. */
  integrations: IntegrationServiceClient;
  /** Largest inbound webhook body, in bytes (413 beyond it). */
  inboundWebhookMaxBytes: number;
  /** GET /api/v1/events: heartbeat, maximum life and retry hint of a stream (defaults when absent). */
  events?: EventStreamLimits;
  requireAuth: RequireAuth;
  /** Revoked sign-in sessions (their access tokens are refused until they expire). */
  revocations: SessionRevocations;
  /** Resolved API keys; revoking a key through this gateway evicts it. */
  apiKeyCache: ApiKeyCache;
  corsOrigins: string[];
  jsonBodyLimit: string;
  /** Uploads (multipart, read by their route; express.json ignores them). */
  attachments: AttachmentLimits;
  trustProxy: string;
  /** The per-client-IP rate limit (decision 0023-gateway-edge), before any route; none when disabled. */
  rateLimitByClientIp?: RequestHandler;
}

/** The public Express app. Order matters: context → telemetry → security → parsing → routes → 404 → errors. */
export function createHttpApp(deps: HttpAppDeps): Express {
  // Each route's requireAuth says which scopes it requires: the OpenAPI document reads them there.
  deps = { ...deps, requireAuth: recordScopes(deps.requireAuth) };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.set('query parser', 'simple');

  app.use(requestContext());
  app.use(probes(deps.health)); // before telemetry: probes every few seconds would drown the access log
  app.use(observability(deps));
  app.use(helmet());
  app.use(
    cors({
      origin: deps.corsOrigins.length ? deps.corsOrigins : false,
      exposedHeaders: [
        'X-Request-Id',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'RateLimit-Policy',
        'Retry-After',
        'Idempotent-Replayed',
      ],
      maxAge: 600,
    }),
  );
  if (deps.rateLimitByClientIp) app.use(deps.rateLimitByClientIp); // per client IP, before authentication
  // The OpenAI-compatible API (decision 0017): OpenAI's error shape instead of the envelope, and its
  // own JSON parser (inline images need a larger body), so it comes before the app's parser.
  app.use(
    '/v1',
    recordRouteBase(),
    openAiCompatibleRoutes({ ai: deps.ai, requireAuth: deps.requireAuth, logger: deps.logger }),
  );
  // Inbound webhooks: the signature covers the raw bytes, so they are read as sent (no user auth: the
  // signature is the auth) before the app's JSON parser could consume and re-shape them.
  app.use(
    '/api/v1/integrations/inbound',
    recordRouteBase(),
    inboundWebhookRoutes(deps.integrations, deps.inboundWebhookMaxBytes),
  );
  app.use(jsonBody(deps.jsonBodyLimit)); // strict JSON, well-formed UTF-8, no __proto__ members
  // API answers are per-user: no shared cache may keep them (RFC 6749 §5.1 requires it for tokens).
  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use('/api/v1/auth/oidc', recordRouteBase(), oidcRoutes(deps.users));
  app.use('/api/v1/auth', recordRouteBase(), authRoutes(deps));
  app.use(
    '/api/v1/users',
    recordRouteBase(),
    userRoutes({
      users: deps.users,
      requireAuth: deps.requireAuth,
      logger: deps.logger,
      revokeSessions: (ids) => deps.revocations.revoke(ids),
      evictApiKeys: (ids) => ids.forEach((id) => deps.apiKeyCache.evictKey(id)),
    }),
  );
  app.use('/api/v1/users', recordRouteBase(), accountSecurityRoutes(deps));
  app.use('/api/v1/users/me/usage', recordRouteBase(), usageRoutes(deps.users, deps.requireAuth));
  app.use('/api/v1/admin', recordRouteBase(), adminRoutes(deps.users, deps.requireAuth));
  app.use('/api/v1/admin/models', recordRouteBase(), modelsAdminRoutes(deps.ai, deps.requireAuth));
  app.use(
    '/api/v1/api-keys',
    recordRouteBase(),
    apiKeyRoutes(deps.users, deps.requireAuth, deps.apiKeyCache),
  );
  app.use('/api/v1/sessions', recordRouteBase(), sessionRoutes(deps.contexts, deps.requireAuth));
  app.use(
    '/api/v1/sessions',
    recordRouteBase(),
    attachmentRoutes(deps.contexts, deps.requireAuth, deps.attachments),
  );
  app.use('/api/v1/models', recordRouteBase(), modelRoutes(deps.ai, deps.requireAuth));
  app.use('/api/v1/webhooks', recordRouteBase(), webhookRoutes(deps.integrations, deps.requireAuth));
  app.use('/api/v1/connectors', recordRouteBase(), connectorRoutes(deps.integrations, deps.requireAuth));
  app.use('/api/v1/events', recordRouteBase(), eventRoutes(deps.integrations, deps.requireAuth, deps.events));
  app.use('/.well-known', recordRouteBase(), wellKnownRoutes(deps.users));
  // The API's description (built from the routes above) and its reference page (decision 0025-openapi).
  app.use('/api/v1', recordRouteBase(), openApiRoutes(deps.logger));
  app.use('/docs', recordRouteBase(), apiReferenceRoutes());

  // Unknown paths 404; a known path with another method 405 with Allow (from the same route walk as the API document).
  app.use(notFound(() => registeredRoutes(app)));
  app.use(errorHandler(deps.logger));
  return app;
}

// Kubernetes probes on the public port answer without details; the ops port has the detailed view.
function probes(health: Health): RequestHandler {
  const handle = createOpsHandler({ health, detailed: false });
  return (req, res, next) => {
    if (req.path !== '/healthz' && req.path !== '/readyz') return next();
    handle(req, res).then((handled) => (handled ? undefined : next()), next);
  };
}
