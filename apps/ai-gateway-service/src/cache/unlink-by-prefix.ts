import type { Redis } from '@te/platform';

const GLOB_SPECIAL = /[*?[\]\\]/g;

/**
 * Deletes every key that starts with `prefix` (under the client's own key prefix), by SCAN in pages
 * and UNLINK, so a large key space never blocks Redis. Returns how many keys went. Errors propagate:
 * erasure that did not happen must be retried, not skipped.
 */
export async function unlinkByPrefix(redis: Redis, prefix: string): Promise<number> {
  // ioredis prefixes commands' keys but neither SCAN's pattern nor the keys SCAN returns.
  const clientPrefix = redis.options.keyPrefix ?? '';
  const pattern = `${clientPrefix}${prefix}`.replace(GLOB_SPECIAL, '\\$&') + '*';
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length) removed += await redis.unlink(...keys.map((key) => key.slice(clientPrefix.length)));
  } while (cursor !== '0');
  return removed;
}
