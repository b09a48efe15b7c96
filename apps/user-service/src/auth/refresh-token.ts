import { createHash, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are opaque: `rt_` + 32 random bytes (256 bits, base64url). The prefix makes a leaked
 * token recognisable to secret scanners; the server keeps only SHA-256 of it (a fast hash is enough
 * for 256 random bits: there is nothing to guess), so a database leak yields no usable token.
 */
export const REFRESH_TOKEN_PREFIX = 'rt_';
const SHAPE = /^rt_[A-Za-z0-9_-]{43}$/;

export function newRefreshToken(): { token: string; hash: string } {
  const token = `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Anything else cannot be one of ours: refused without a database lookup. */
export function isWellFormedRefreshToken(token: string): boolean {
  return SHAPE.test(token);
}
