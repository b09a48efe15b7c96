import { Redis } from 'ioredis';
import { testRedisPrefix, runId } from '../src/index.js';

describe('testRedisPrefix', () => {
  const url = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
  let plain: Redis;
  beforeAll(() => {
    plain = new Redis(url);
  });
  afterAll(() => plain.quit());

  test('When cleanup runs with a plain client, then every key under the prefix is deleted and other keys stay', async () => {
    const { prefix, cleanup } = testRedisPrefix();
    const other = `other:${runId()}:keep`;
    for (let i = 0; i < 1_200; i += 1) await plain.set(`${prefix}k${i}`, '1');
    await plain.set(other, '1');

    const deleted = await cleanup(plain);

    expect(prefix).toBe(`t${runId()}:`);
    expect(deleted).toBe(1_200);
    expect(await plain.exists(`${prefix}k0`, `${prefix}k1199`)).toBe(0);
    expect(await plain.get(other)).toBe('1');
    await plain.del(other);
  });

  test("When cleanup runs with the service's client (ioredis keyPrefix), then its keys are deleted too", async () => {
    const { prefix, cleanup } = testRedisPrefix();
    const service = new Redis(url, { keyPrefix: prefix });
    try {
      await service.set('session:1', 'a');
      await service.hset('rate:user:1', 'n', '1');

      const deleted = await cleanup(service);

      expect(deleted).toBe(2);
      expect(await plain.exists(`${prefix}session:1`, `${prefix}rate:user:1`)).toBe(0);
    } finally {
      await service.quit();
    }
  });
});
