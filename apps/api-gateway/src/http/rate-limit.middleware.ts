import type { Request, RequestHandler, Response } from 'express';
import { Counter } from 'prom-client';
import { AppError, type Logger, type Metrics, type Principal } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import { sendError } from './envelope.js';
import { sendOpenAiError } from './openai-errors.js';
import { classifyRequest, type RateLimits, type RouteClass } from './rate-limit.policy.js';
import type { RateLimitDecision, RateLimitPolicy, RateLimitStore } from './rate-limit.store.js';

export interface RateLimiterDeps {
  store: RateLimitStore;
  limits: RateLimits;
  logger: Logger;
  metrics: Metrics;
}

// The decision whose headers the response carries (the one closest to its limit).
const SHOWN = 'rateLimitShown';
const PRINCIPAL_CHECKED = 'rateLimitPrincipalChecked';

/**
 * Edge rate limits (decision 0023-gateway-edge): GCRA buckets in Redis, two checks per request.
 * Before authentication, per client IP (`req.ip`, which honours TRUST_PROXY): the `auth` class with
 * its strict limit, every other request with the coarse `ip` flood guard. After authentication, per
 * principal (the API key when the caller used one, else the user) with its class's limit. Answers
 * carry draft-ietf-httpapi-ratelimit-headers-06 fields (`RateLimit-Limit`, `-Remaining`, `-Reset`,
 * `-Policy`) of the check closest to its limit; a refusal is 429 RATE_LIMITED with `Retry-After`.
 * When Redis cannot answer within its timeout: `auth` fails closed (503), the rest fail open.
 */
export class RateLimiter {
  private readonly limited: Counter<'class' | 'scope'>;
  private readonly unchecked: Counter<'class' | 'outcome'>;

  constructor(private readonly deps: RateLimiterDeps) {
    const registers = [deps.metrics.registry];
    this.limited = new Counter({
      name: 'http_rate_limited_requests_total',
      help: 'Requests refused with 429 by the edge rate limits, by route class and scope (ip, principal)',
      labelNames: ['class', 'scope'],
      registers,
    });
    this.unchecked = new Counter({
      name: 'http_rate_limit_unchecked_total',
      help: 'Requests whose rate limit Redis could not check, by class and outcome (fail_open, fail_closed)',
      labelNames: ['class', 'outcome'],
      registers,
    });
  }

  /** Per client IP, before any route (and so before authentication). Answers 429/503 itself. */
  byClientIp(): RequestHandler {
    return (req, res, next) => {
      const routeClass = classifyRequest(req.method, req.path);
      if (!routeClass) return next();
      const isAuth = routeClass === 'auth';
      const policy = isAuth ? this.deps.limits.classes.auth : this.deps.limits.ip;
      const key = `rl:ip:${isAuth ? 'auth' : 'all'}:${req.ip ?? 'unknown'}`;
      this.check(res, routeClass, 'ip', key, policy).then(
        (error) => (error ? respond(req, res, error) : next()),
        next,
      );
    };
  }

  /** Per principal, right after authentication (the principal is known only then); errors go to next(). */
  byPrincipal(): RequestHandler {
    return (req, res, next) => {
      const principal = res.locals.principal as Principal | undefined;
      const routeClass = classifyRequest(req.method, req.originalUrl.split('?')[0] ?? '');
      // `auth` is counted per IP only; a request authenticated twice (two routers) is counted once.
      if (!principal || !routeClass || routeClass === 'auth' || res.locals[PRINCIPAL_CHECKED]) return next();
      res.locals[PRINCIPAL_CHECKED] = true;
      const who = principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.userId}`;
      this.check(
        res,
        routeClass,
        'principal',
        `rl:${routeClass}:${who}`,
        this.deps.limits.classes[routeClass],
      ).then((error) => next(error), next);
    };
  }

  // Resolves with the error to answer, or undefined to go on.
  private async check(
    res: Response,
    routeClass: RouteClass,
    scope: 'ip' | 'principal',
    key: string,
    policy: RateLimitPolicy,
  ): Promise<AppError | undefined> {
    let decision: RateLimitDecision;
    try {
      decision = await this.deps.store.take(key, policy);
    } catch (error) {
      const failClosed = routeClass === 'auth';
      this.unchecked.inc({ class: routeClass, outcome: failClosed ? 'fail_closed' : 'fail_open' });
      this.deps.logger.warn('rate limit not checked: redis unavailable', {
        class: routeClass,
        policy: failClosed ? 'fail_closed' : 'fail_open',
        reason: error instanceof Error ? error.message : String(error),
      });
      return failClosed ? new AppError('UNAVAILABLE', 'Service unavailable', { cause: error }) : undefined;
    }
    showHeaders(res, decision, policy);
    if (decision.allowed) return undefined;
    this.limited.inc({ class: routeClass, scope });
    return new AppError('RATE_LIMITED', 'Too many requests, retry later', {
      retryAfterSeconds: decision.retryAfterMs / 1000,
    });
  }
}

/** `requireAuth` followed by per-principal checks (rate limit, idempotency) once the principal is known. */
export function withAfterAuth(requireAuth: RequireAuth, ...after: RequestHandler[]): RequireAuth {
  return (...scopes) => {
    const authenticate = requireAuth(...scopes);
    return (req, res, next) => {
      const run = (index: number) => (error?: unknown) => {
        if (error !== undefined && error !== null) return next(error);
        const handler = after[index];
        if (!handler) return next();
        void handler(req, res, run(index + 1));
      };
      void authenticate(req, res, run(0));
    };
  };
}

function showHeaders(res: Response, decision: RateLimitDecision, policy: RateLimitPolicy): void {
  const shown = res.locals[SHOWN] as RateLimitDecision | undefined;
  if (shown && shown.remaining < decision.remaining && decision.allowed) return;
  res.locals[SHOWN] = decision;
  const windowSeconds = Math.ceil((policy.burst * 60) / policy.perMinute);
  res.setHeader('RateLimit-Limit', String(decision.limit));
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  res.setHeader('RateLimit-Reset', String(Math.ceil(decision.resetMs / 1000)));
  res.setHeader('RateLimit-Policy', `${policy.burst};w=${windowSeconds}`);
}

// The IP check runs before any router, so it answers in the format of the API asked for.
function respond(req: Request, res: Response, error: AppError): void {
  const openAi = req.path.toLowerCase() === '/v1' || req.path.toLowerCase().startsWith('/v1/');
  if (openAi) return sendOpenAiError(res, error);
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  sendError(res, error);
}
