import type { Request } from 'express';
import type { Strategy, StrategyCreated } from 'passport';
import { AppError } from '@te/platform';
import type { UserServiceClient } from '../clients/user-service.client.js';
import type { ApiKeyCache, ResolvedApiKey } from './api-key.cache.js';

/** The header a client may send its key in (the alternative to `Authorization: Bearer <key>`). */
export const API_KEY_HEADER = 'x-api-key';
/** Every key user-service issues starts with this; JWTs never do (they start with `eyJ`). */
export const API_KEY_TAG = 'tek_';
// The shape of a key (api-key.secret.ts in user-service): checked here so junk never costs a gRPC call.
const API_KEY_FORMAT = /^tek_[0-9a-hjkmnp-tv-z]{8}_[A-Za-z0-9_-]{43}$/;
const BEARER = /^Bearer +(\S+)$/i;

type Presented = { kind: 'none' } | { kind: 'ambiguous' } | { kind: 'api_key'; value: string };

/**
 * Where a request carries an API key: `X-API-Key: <key>`, or `Authorization: Bearer tek_…`. A request
 * with both headers is ambiguous and refused (RFC 6750 §2: one method per request), so a client can
 * never have one credential checked while it believes another one is in use.
 */
export function presentedApiKey(req: Request): Presented {
  const header = req.headers[API_KEY_HEADER];
  const authorization = req.headers.authorization;
  if (header !== undefined) {
    if (authorization !== undefined) return { kind: 'ambiguous' };
    return typeof header === 'string' ? { kind: 'api_key', value: header } : { kind: 'ambiguous' };
  }
  const bearer = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  return bearer?.startsWith(API_KEY_TAG) ? { kind: 'api_key', value: bearer } : { kind: 'none' };
}

/**
 * The passport strategy `api-key` (registered after `jwt`). No key presented: it fails, so another
 * strategy decides. A key: resolved through the cache (user-service's AuthenticateApiKey behind it);
 * the principal carries `authMethod: 'api_key'`, the key id and the key's scopes only. user-service
 * being unreachable is an error (503), never a 401.
 */
export function createApiKeyStrategy(cache: ApiKeyCache): Strategy {
  return {
    name: 'api-key',
    authenticate(this: StrategyCreated<Strategy>, req: Request) {
      const presented = presentedApiKey(req);
      if (presented.kind !== 'api_key' || !API_KEY_FORMAT.test(presented.value)) return this.fail(401);
      cache.lookup(presented.value).then(
        (principal) => (principal ? this.success(principal) : this.fail(401)),
        (error: unknown) => this.error(error),
      );
    },
  };
}

/**
 * Wraps the JWT strategy so that an API key is never parsed as a JWT: a request whose bearer value
 * is one of our keys, or that carries `X-API-Key`, fails at once and is left to the `api-key`
 * strategy. (The `api-key` strategy, in turn, never looks at a bearer value that is not a key.)
 */
export function exceptApiKeys(jwtStrategy: Strategy): Strategy {
  const delegate = jwtStrategy.authenticate as (this: unknown, req: Request, options?: unknown) => unknown;
  // Object.create keeps the JWT strategy's own state (options, verify function) on the prototype chain.
  const guarded = Object.create(jwtStrategy) as Strategy;
  guarded.authenticate = function (this: StrategyCreated<Strategy>, req: Request, options?: unknown) {
    if (presentedApiKey(req).kind !== 'none') return this.fail(401);
    return delegate.call(this, req, options);
  };
  return guarded;
}

/** user-service's AuthenticateApiKey as the cache's resolver: UNAUTHENTICATED means "not a valid key". */
export function resolveWithUserService(
  users: UserServiceClient,
): (secret: string) => Promise<ResolvedApiKey | undefined> {
  return async (secret) => {
    try {
      const answer = await users.apiKeys.authenticate(secret);
      return {
        principal: {
          userId: answer.userId,
          roles: answer.roles,
          scopes: answer.scopes,
          authMethod: 'api_key',
          apiKeyId: answer.apiKeyId,
        },
        ttlSeconds: answer.cacheTtlSeconds,
      };
    } catch (error) {
      if (error instanceof AppError && error.code === 'UNAUTHENTICATED') return undefined;
      throw error;
    }
  };
}
