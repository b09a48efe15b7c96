import type { Redis } from '@te/platform';

/** What the guard knew of a message id: first seen now, seen with the same body, or with another body. */
export type ReplayVerdict = 'new' | 'duplicate' | 'conflict';

export interface ReplayClaim {
  source: string;
  messageId: string;
  /** SHA-256 (hex) of the body: a retry carries the same body under the same id. */
  bodyDigest: string;
  /** How long to remember: as long as the delivery could still pass verification. */
  ttlSeconds: number;
  /**
   * Also remember the body itself, so the same signed body under another message id is a duplicate
   * too: for senders whose message id is not covered by the signature (GitHub).
   */
  bodyKeyed: boolean;
}

// One script, so concurrent deliveries of one message cannot both be "new".
// KEYS[1] message id key, KEYS[2] body key (or absent). ARGV: digest, ttl seconds, message id.
const CLAIM = `
local seen = redis.call('GET', KEYS[1])
if seen then
  if seen == ARGV[1] then return 'duplicate' end
  return 'conflict'
end
if KEYS[2] then
  if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[2]) == false then return 'duplicate' end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 'new'
`;

/**
 * Replay protection: each source's message ids (and, when asked, bodies) are remembered in Redis
 * (`inbound:<source>:id:<message id>`, `inbound:<source>:body:<digest>`) for the window in which the
 * delivery would still verify. Every replica shares them.
 */
export class ReplayGuard {
  constructor(private readonly redis: Redis) {}

  async claim(claim: ReplayClaim): Promise<ReplayVerdict> {
    const keys = this.keys(claim);
    const verdict = await this.redis.eval(
      CLAIM,
      keys.length,
      ...keys,
      claim.bodyDigest,
      String(Math.max(1, Math.ceil(claim.ttlSeconds))),
      claim.messageId,
    );
    return verdict as ReplayVerdict;
  }

  /** Forgets a claim whose event could not be stored, so the sender's retry is not taken for a replay. */
  async release(claim: ReplayClaim): Promise<void> {
    await this.redis.del(...this.keys(claim));
  }

  private keys(claim: ReplayClaim): string[] {
    const base = `inbound:${claim.source}`;
    const keys = [`${base}:id:${claim.messageId}`];
    if (claim.bodyKeyed) keys.push(`${base}:body:${claim.bodyDigest}`);
    return keys;
  }
}
