import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { Principal } from '@te/platform';
import type { JwksCache } from './jwks.cache.js';
import type { SessionRevocations } from './session-revocations.js';

/** RFC 8725 §3.1: an explicit allow-list; never `none`, never an HMAC algorithm for asymmetric keys. */
export const ACCEPTED_ALGORITHMS = ['ES256'] as const;
/** RFC 9068 §2.1 / RFC 8725 §3.11: only access tokens are accepted as access tokens. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
// Headers that would let a token name its own verification key (RFC 8725 §3.10); we never honour them.
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

export interface JwtSettings {
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

interface AccessTokenClaims {
  sub?: string;
  sid?: unknown;
  roles?: unknown;
  scope?: unknown;
}

/** Where revoked sessions are looked up (SessionRevocations). */
export type RevocationCheck = Pick<SessionRevocations, 'isRevoked'>;

// Session ids are UUIDs; anything else is not a token user-service issued.
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * passport-jwt verifies signature, `exp`, `nbf`, `iss` and `aud` (through jsonwebtoken, with the
 * algorithm allow-list); the key provider first rejects any header we do not accept and picks the key
 * by `kid` from the cached JWKS. A verified token must still name a session (`sid`) that has not been
 * revoked; when the revocation list cannot be read the request fails with 503 (fail closed), never
 * passes unchecked.
 */
export function createJwtStrategy(
  jwks: JwksCache,
  settings: JwtSettings,
  revocations: RevocationCheck,
): Strategy {
  const options: StrategyOptionsWithoutRequest = {
    jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
    algorithms: [...ACCEPTED_ALGORITHMS],
    issuer: settings.issuer,
    audience: settings.audience,
    jsonWebTokenOptions: { clockTolerance: settings.clockToleranceSeconds },
    secretOrKeyProvider: (_req, rawToken, done) => {
      keyFor(jwks, String(rawToken)).then(
        // The cached KeyObject itself: jsonwebtoken 9 verifies with a KeyObject as is (no PEM export and
        // re-parse per request); @types/passport-jwt only narrows the callback to string | Buffer.
        (key) =>
          key ? done(null, key as unknown as string) : done(new Error('no acceptable key for this token')),
        (error: unknown) => done(error),
      );
    },
  };
  return new Strategy(options, (claims: AccessTokenClaims, done) => {
    const principal = principalFrom(claims);
    if (!principal?.sessionId) return done(null, false);
    revocations.isRevoked(principal.sessionId).then(
      (revoked) => (revoked ? done(null, false) : done(null, principal)),
      (error: unknown) => done(error),
    );
  });
}

async function keyFor(jwks: JwksCache, rawToken: string): Promise<KeyObject | undefined> {
  const decoded = jwt.decode(rawToken, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') return undefined;
  const header = decoded.header as jwt.JwtHeader & Record<string, unknown>;
  if (header.typ !== ACCESS_TOKEN_TYPE) return undefined;
  if (!(ACCEPTED_ALGORITHMS as readonly string[]).includes(header.alg)) return undefined;
  if (FORBIDDEN_HEADERS.some((name) => name in header) || header.crit !== undefined) return undefined;
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 128) return undefined;
  const found = await jwks.getKey(header.kid);
  if (!found || found.alg !== header.alg) return undefined;
  return found.key;
}

function principalFrom(claims: AccessTokenClaims): Principal | undefined {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) return undefined;
  if (typeof claims.sid !== 'string' || !SESSION_ID.test(claims.sid)) return undefined;
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
  return { userId: claims.sub, roles, scopes, authMethod: 'jwt', sessionId: claims.sid };
}
