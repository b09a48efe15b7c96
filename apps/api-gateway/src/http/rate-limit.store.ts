import type { Redis } from '@te/platform';

/** A bucket's allowance: `burst` requests at once, refilled at `perMinute` (GCRA's rate and tolerance). */
export interface RateLimitPolicy {
  perMinute: number;
  burst: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** The policy's burst: requests a full bucket allows at once (`RateLimit-Limit`). */
  limit: number;
  /** Requests still allowed at once after this one (`RateLimit-Remaining`). */
  remaining: number;
  /** Milliseconds until the bucket is full again (`RateLimit-Reset`). */
  resetMs: number;
  /** When refused: milliseconds until one request is allowed (`Retry-After`); 0 when allowed. */
  retryAfterMs: number;
}

/**
 * GCRA (the Generic Cell Rate Algorithm, ITU-T I.371; as in redis-cell and `throttled`) in one Lua
 * script, so a check is one atomic round trip whichever replica runs it. The bucket is one key holding
 * the theoretical arrival time (TAT) in ms: each request moves it `interval` = 60000/perMinute later;
 * a request is refused when the new TAT would run more than `burst × interval` ahead of now. The clock
 * is Redis's own (TIME), so replicas with skewed clocks share one timeline; ARGV[3] replaces it in specs.
 * Returns { allowed, remaining, retry_after_ms, reset_after_ms } as integers.
 */
const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now
if ARGV[3] and ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local capacity = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > capacity + 0.0001 then
  return { 0, 0, math.ceil(new_tat - now - capacity), math.ceil(tat - now) }
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
local remaining = math.floor((capacity - (new_tat - now)) / interval + 0.0001)
return { 1, remaining, 0, math.ceil(new_tat - now) }
`;

interface GcraRedis extends Redis {
  gcra(
    key: string,
    intervalMs: string,
    burst: string,
    now: string,
  ): Promise<[number, number, number, number]>;
}

/** Buckets in Redis under the client's key prefix (`rl:<scope>:<class>:<id>`). */
export class RateLimitStore {
  private readonly redis: GcraRedis;

  constructor(
    redis: Redis,
    private readonly timeoutMs: number,
  ) {
    // defineCommand runs the script by its SHA (EVALSHA) and loads it on NOSCRIPT; KEYS get the prefix.
    if (!('gcra' in redis)) redis.defineCommand('gcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
    this.redis = redis as GcraRedis;
  }

  /**
   * Takes one request from the bucket. Rejects (never hangs) when Redis is not connected or does not
   * answer within the timeout; the caller applies its class's failure policy.
   */
  async take(key: string, policy: RateLimitPolicy, nowMs?: number): Promise<RateLimitDecision> {
    if (this.redis.status !== 'ready') throw new Error(`redis is ${this.redis.status}`);
    const intervalMs = 60_000 / policy.perMinute;
    const reply = await withTimeout(
      this.redis.gcra(
        key,
        String(intervalMs),
        String(policy.burst),
        nowMs === undefined ? '' : String(nowMs),
      ),
      this.timeoutMs,
    );
    const [allowed, remaining, retryAfterMs, resetMs] = reply.map(Number) as [number, number, number, number];
    return { allowed: allowed === 1, limit: policy.burst, remaining, resetMs, retryAfterMs };
  }
}

export async function withTimeout<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  operation.catch(() => undefined); // a late failure after the timeout is not unhandled
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
