import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimitStore } from './rate-limit.store.js';

// The GCRA script itself, on the machine's Redis under a prefix of its own, with the clock passed in
// (ARGV[3]) so the arithmetic is exact: 60/min is one request per 1000 ms, burst 3.
const policy = { perMinute: 60, burst: 3 };
let redis: Redis;
let store: RateLimitStore;
const prefix = `t-gcra-${randomUUID().slice(0, 8)}:`;

beforeAll(async () => {
  redis = new Redis(process.env['REDIS_URL'] || 'redis://127.0.0.1:6379', { keyPrefix: prefix });
  await new Promise((resolve) => redis.once('ready', resolve));
  store = new RateLimitStore(redis, 2_000);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys.map((key) => key.slice(prefix.length)));
  await redis.quit();
});

test('When a full bucket is used, then `burst` requests pass with a falling remainder and the next waits one interval', async () => {
  const key = randomUUID();
  const t = 1_000_000;
  const decisions = [];
  for (let i = 0; i < 4; i += 1) decisions.push(await store.take(key, policy, t));

  expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
    [true, 2],
    [true, 1],
    [true, 0],
    [false, 0],
  ]);
  expect(decisions.map((d) => d.resetMs)).toEqual([1_000, 2_000, 3_000, 3_000]);
  expect(decisions[3]).toMatchObject({ limit: 3, retryAfterMs: 1_000 });
});

test('When time passes, then the bucket refills at the rate and never beyond the burst', async () => {
  const key = randomUUID();
  const t = 2_000_000;
  for (let i = 0; i < 3; i += 1) await store.take(key, policy, t);

  expect(await store.take(key, policy, t + 400)).toMatchObject({ allowed: false, retryAfterMs: 600 });
  expect(await store.take(key, policy, t + 1_000)).toMatchObject({ allowed: true, remaining: 0 });
  // Long after: a full bucket again (the key expired or the TAT lies in the past).
  expect(await store.take(key, policy, t + 60_000)).toMatchObject({ allowed: true, remaining: 2 });
});

test('When a request is refused, then it does not use up the allowance', async () => {
  const key = randomUUID();
  const t = 3_000_000;
  for (let i = 0; i < 3; i += 1) await store.take(key, policy, t);
  for (let i = 0; i < 5; i += 1) expect((await store.take(key, policy, t + 10)).allowed).toBe(false);

  expect((await store.take(key, policy, t + 1_000)).allowed).toBe(true);
});

test('When the key is written, then it expires once the bucket would be full again', async () => {
  const key = randomUUID();
  await store.take(key, policy);
  const own = await redis.pttl(key);
  expect(own).toBeGreaterThan(0);
  expect(own).toBeLessThanOrEqual(1_000);
});

test('When Redis is not connected, then take() rejects at once rather than waiting', async () => {
  const offline = new Redis({ lazyConnect: true, port: 1 });
  const offlineStore = new RateLimitStore(offline, 100);
  await expect(offlineStore.take('x', policy)).rejects.toThrow(/redis is/);
  offline.disconnect();
});
