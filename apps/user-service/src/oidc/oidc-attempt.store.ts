import { createHash } from 'node:crypto';
import type { Redis } from '@te/platform';
import type { OidcAttempt, OidcAttemptStore } from '../domain/oidc-login.use-case.js';

/**
 * Sign-in attempts in Redis under the SHA-256 of their state, with a TTL. GETDEL makes redemption
 * atomic: of two callbacks with the same state (a replay, or a race), exactly one finds the attempt.
 * The state itself is not stored (the callback brings it back), and caller input never forms a key verbatim.
 */
export class RedisOidcAttemptStore implements OidcAttemptStore {
  constructor(private readonly redis: Redis) {}

  async save(attempt: OidcAttempt, ttlSeconds: number): Promise<void> {
    const { state, ...secrets } = attempt;
    await this.redis.set(key(state), JSON.stringify(secrets), 'EX', ttlSeconds);
  }

  async take(state: string): Promise<OidcAttempt | undefined> {
    const stored = await this.redis.getdel(key(state));
    return stored ? { ...(JSON.parse(stored) as Omit<OidcAttempt, 'state'>), state } : undefined;
  }
}

function key(state: string): string {
  return `oidc:attempt:${createHash('sha256').update(state).digest('base64url')}`;
}
