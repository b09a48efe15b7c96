import { AppError, type Redis } from '@te/platform';

/**
 * The longest an access token can live: user-service's ACCESS_TOKEN_TTL_SECONDS is at most 3600, plus
 * the gateway's clock tolerance (at most 300). A revoked session id is remembered this long; after
 * that, every token of the session has expired anyway.
 */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 3600 + 300;

/** Beyond this, a revocation lookup counts as failed (fail closed) rather than holding the request. */
const LOOKUP_TIMEOUT_MS = 1_000;

/**
 * Sessions whose access tokens must stop working before they expire (logout, logout-all, password
 * change, refresh-token reuse, account deletion), shared by every gateway replica through Redis. Access
 * tokens stay self-contained JWTs verified locally; this list is the one lookup per request that makes
 * them revocable (RFC 9700 §4.14 asks that revoking a refresh-token family also end its access).
 */
export class SessionRevocations {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  ) {}

  /** Marks the sessions revoked (idempotent). Throws UNAVAILABLE when Redis cannot store it. */
  async revoke(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const transaction = this.redis.multi();
    for (const id of sessionIds) transaction.set(key(id), '1', 'EX', this.ttlSeconds);
    const results = await withTimeout(transaction.exec());
    if (!results || results.some(([error]) => error)) {
      throw new AppError('UNAVAILABLE', 'Session revocation could not be recorded');
    }
  }

  /** Whether the session was revoked. Throws UNAVAILABLE when Redis cannot answer: callers fail closed. */
  async isRevoked(sessionId: string): Promise<boolean> {
    return (await withTimeout(this.redis.exists(key(sessionId)))) === 1;
  }
}

function key(sessionId: string): string {
  return `revoked-session:${sessionId}`;
}

async function withTimeout<T>(operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('redis did not answer in time')), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([operation, timeout]);
  } catch (error) {
    throw new AppError('UNAVAILABLE', 'Session revocations are unavailable', { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
