import { randomUUID } from 'node:crypto';
import { captureLogger, closeRedis, createRedis, type Redis } from '@te/platform';
import { testRedisPrefix, waitFor } from '@te/testing';
import { Registry } from 'prom-client';
import { RedisResponseCache, responseCacheKey, userCachePrefix } from '../src/cache/index.js';
import type { CachedAnswer, ResponseCacheRequest } from '../src/domain/ports.js';
import { startOwnRedis, type OwnRedis } from './support/own-redis.js';

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

const ANSWER: CachedAnswer = {
  text: 'It means the disk is full.',
  finishReason: 'stop',
  usage: { inputTokens: 40, outputTokens: 6, estimated: false },
  modelVersion: 'fake-gpt@2026-01',
  provider: 'fake',
};

function request(overrides: Partial<ResponseCacheRequest> = {}): ResponseCacheRequest {
  return {
    userId: randomUUID(),
    model: 'explainer',
    maxOutputTokens: 0,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Screen text: error 28' }] },
      { role: 'user', content: [{ type: 'text', text: 'What does it mean?' }] },
    ],
    ...overrides,
  };
}

const withImage = (bytes: number[]): ResponseCacheRequest['messages'] => [
  {
    role: 'user',
    content: [
      { type: 'text', text: 'What is this?' },
      { type: 'image', mediaType: 'image/png', data: Uint8Array.from(bytes) },
    ],
  },
];

describe('response cache on the real Redis', () => {
  const { prefix, cleanup } = testRedisPrefix();
  const logs = captureLogger('response-cache-test');
  let redis: Redis;
  let cache: RedisResponseCache;

  beforeAll(async () => {
    redis = createRedis({ url: REDIS_URL, keyPrefix: prefix, logger: logs.logger, name: 'cache-test' });
    await redis.connect();
    cache = new RedisResponseCache(redis, logs.logger, { ttlSeconds: 3600, maxEntryBytes: 4096 });
  });

  afterAll(async () => {
    await cleanup(redis);
    await closeRedis(redis);
  });

  it('When an answer is stored, then the same request of the same user gets it back', async () => {
    const asked = request();
    expect(await cache.get(asked)).toBeUndefined();
    expect(await cache.put(asked, ANSWER)).toBe(true);
    expect(await cache.get({ ...asked, messages: structuredClone(asked.messages) })).toEqual(ANSWER);
  });

  it('When anything that decides the answer differs, then it is a miss', async () => {
    const asked = request();
    await cache.put(asked, ANSWER);
    const other = (changes: Partial<ResponseCacheRequest>) => cache.get({ ...asked, ...changes });
    expect(await other({ userId: randomUUID() })).toBeUndefined();
    expect(await other({ model: 'explainer@stable' })).toBeUndefined();
    expect(await other({ maxOutputTokens: 100 })).toBeUndefined();
    expect(
      await other({
        messages: [
          asked.messages[0],
          { role: 'user', content: [{ type: 'text', text: 'What does it mean? ' }] },
        ],
      }),
    ).toBeUndefined();
    // The same texts in other roles are another conversation.
    expect(
      await other({ messages: asked.messages.map((message) => ({ ...message, role: 'user' as const })) }),
    ).toBeUndefined();
  });

  it('When images are sent, then the key follows their bytes', async () => {
    const asked = request({ messages: withImage([0x89, 0x50, 0x4e, 0x47]) });
    await cache.put(asked, ANSWER);
    expect(await cache.get({ ...asked, messages: withImage([0x89, 0x50, 0x4e, 0x47]) })).toEqual(ANSWER);
    expect(await cache.get({ ...asked, messages: withImage([0x89, 0x50, 0x4e, 0x48]) })).toBeUndefined();
  });

  it('When an answer is not complete, then it is not cached; "length" is', async () => {
    for (const finishReason of ['content_filter', 'error'] as const) {
      const asked = request();
      expect(await cache.put(asked, { ...ANSWER, finishReason } as unknown as CachedAnswer)).toBe(false);
      expect(await cache.get(asked)).toBeUndefined();
    }
    const truncated = request();
    expect(await cache.put(truncated, { ...ANSWER, finishReason: 'length' })).toBe(true);
    expect(await cache.get(truncated)).toMatchObject({ finishReason: 'length' });
  });

  it('When an answer is larger than the entry limit, then it is not stored', async () => {
    const asked = request();
    expect(await cache.put(asked, { ...ANSWER, text: 'x'.repeat(5000) })).toBe(false);
    expect(await cache.get(asked)).toBeUndefined();
    expect(await redis.exists(responseCacheKey(asked))).toBe(0);
  });

  it('When an entry is stored, then it lives under the user’s prefix with the TTL; when it expires, it is a miss', async () => {
    const short = new RedisResponseCache(redis, logs.logger, { ttlSeconds: 1, maxEntryBytes: 4096 });
    const asked = request();
    await short.put(asked, ANSWER);
    const key = responseCacheKey(asked);
    expect(key.startsWith(userCachePrefix(asked.userId))).toBe(true);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    // Erasure of a user: everything under their prefix.
    const [, keys] = await redis.scan(
      '0',
      'MATCH',
      `${prefix}${userCachePrefix(asked.userId)}*`,
      'COUNT',
      1000,
    );
    expect(keys).toEqual([`${prefix}${key}`]);
    await waitFor(async () => (await short.get(asked)) === undefined, {
      timeoutMs: 10_000,
      description: 'the entry to expire',
    });
  });

  it('When an entry is unreadable, then it is a miss, not an error', async () => {
    const asked = request();
    await redis.set(responseCacheKey(asked), '{"text": 42');
    expect(await cache.get(asked)).toBeUndefined();
    await redis.set(responseCacheKey(asked), JSON.stringify({ ...ANSWER, finishReason: 'error' }));
    expect(await cache.get(asked)).toBeUndefined();
  });
});

describe('response cache while its Redis is down', () => {
  let own: OwnRedis;
  let redis: Redis;
  const logs = captureLogger('response-cache-outage-test');

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = createRedis({ url: own.url, logger: logs.logger, name: 'cache-outage-test' });
    await redis.connect();
  }, 30_000);

  afterAll(async () => {
    await closeRedis(redis);
    await own.kill();
  });

  it('When Redis goes away, then every lookup is a miss, stores are skipped, the outage is logged once, and the cache works again when Redis is back', async () => {
    const registry = new Registry();
    const cache = new RedisResponseCache(redis, logs.logger, {
      ttlSeconds: 60,
      maxEntryBytes: 4096,
      registry,
    });
    const asked = request();
    expect(await cache.put(asked, ANSWER)).toBe(true);
    await own.kill();

    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await cache.get(asked)).toBeUndefined();
      expect(await cache.put(asked, ANSWER)).toBe(false);
    }
    const outages = () =>
      logs.lines().filter((line) => String(line['message']).startsWith('response cache unavailable'));
    expect(outages()).toHaveLength(1);
    expect(outages()[0]).toMatchObject({ level: 'warn' });
    const lookups = await registry.getSingleMetric('ai_response_cache_lookups_total')!.get();
    expect(lookups.values).toEqual([
      expect.objectContaining({ labels: { result: 'unavailable' }, value: 3 }),
    ]);

    await own.restart();
    await waitFor(() => redis.status === 'ready', {
      timeoutMs: 20_000,
      description: 'the client to reconnect',
    });
    expect(await cache.put(asked, ANSWER)).toBe(true);
    expect(await cache.get(asked)).toEqual(ANSWER);
    expect(logs.lines().some((line) => line['message'] === 'response cache available again')).toBe(true);
    expect(outages()).toHaveLength(1);
  }, 60_000);
});
