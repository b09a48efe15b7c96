import type { Redis } from 'ioredis';
import { runId } from './run-id.js';

export interface TestRedisPrefix {
  /** `t<runid>:` — give it to the code under test as REDIS_KEY_PREFIX. */
  prefix: string;
  /** Deletes every key under the prefix (SCAN + UNLINK, never KEYS); resolves to how many. */
  cleanup(redis: Redis): Promise<number>;
}

/**
 * The Redis key prefix of this run. `cleanup` works with a client that has the prefix as its ioredis
 * `keyPrefix` (the service under test) or with a plain one.
 */
export function testRedisPrefix(): TestRedisPrefix {
  const prefix = `t${runId()}:`;
  return { prefix, cleanup: (redis) => deleteByPrefix(redis, prefix) };
}

async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  // ioredis adds `keyPrefix` to the keys of UNLINK but not to SCAN's pattern nor to the keys SCAN
  // returns: with a prefixed client, match the full name and unlink the name without the client prefix.
  const clientPrefix = redis.options.keyPrefix ?? '';
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    const own = keys
      .filter((key) => key.startsWith(clientPrefix))
      .map((key) => key.slice(clientPrefix.length));
    if (own.length > 0) deleted += await redis.unlink(...own);
  } while (cursor !== '0');
  return deleted;
}
