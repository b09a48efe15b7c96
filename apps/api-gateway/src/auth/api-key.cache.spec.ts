import { AppError } from '@te/platform';
import { ApiKeyCache, type ResolvedApiKey } from './api-key.cache.js';

const KEY_A = `tek_aaaaaaaa_${'a'.repeat(43)}`;
const KEY_B = `tek_bbbbbbbb_${'b'.repeat(43)}`;
const KEY_C = `tek_cccccccc_${'c'.repeat(43)}`;

function resolved(apiKeyId: string, ttlSeconds = 30): ResolvedApiKey {
  return {
    principal: {
      userId: `user-of-${apiKeyId}`,
      roles: ['user'],
      scopes: ['explain'],
      authMethod: 'api_key',
      apiKeyId,
    },
    ttlSeconds,
  };
}

/** A cache over a resolver the test scripts, on a clock the test moves. */
function cacheWith(answers: Record<string, () => Promise<ResolvedApiKey | undefined>>, maxEntries = 100) {
  let now = 1_000_000;
  const resolve = jest.fn((secret: string) => (answers[secret] ?? (async () => undefined))());
  const cache = new ApiKeyCache({
    resolve,
    maxEntries,
    negativeTtlMs: 5_000,
    maxTtlMs: 60_000,
    now: () => now,
  });
  return { cache, resolve, advance: (ms: number) => (now += ms) };
}

describe('ApiKeyCache', () => {
  test('When a key was resolved, then it is answered from memory until the TTL user-service granted, then asked again', async () => {
    const { cache, resolve, advance } = cacheWith({ [KEY_A]: async () => resolved('a', 30) });

    expect(await cache.lookup(KEY_A)).toMatchObject({ apiKeyId: 'a', userId: 'user-of-a' });
    advance(29_999);
    await cache.lookup(KEY_A);
    expect(resolve).toHaveBeenCalledTimes(1);

    advance(1);
    await cache.lookup(KEY_A);
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  test("When user-service grants more than the gateway's ceiling or nothing, then the ceiling or no caching applies", async () => {
    const { cache, resolve, advance } = cacheWith({
      [KEY_A]: async () => resolved('a', 300),
      [KEY_B]: async () => resolved('b', 0),
    });

    await cache.lookup(KEY_A);
    advance(60_000);
    await cache.lookup(KEY_A);
    await cache.lookup(KEY_B);
    await cache.lookup(KEY_B);

    expect(resolve.mock.calls.map(([secret]) => secret)).toEqual([KEY_A, KEY_A, KEY_B, KEY_B]);
  });

  test('When a key is invalid, then that verdict is remembered only for the short negative TTL', async () => {
    const { cache, resolve, advance } = cacheWith({});

    expect(await cache.lookup(KEY_A)).toBeUndefined();
    advance(4_999);
    expect(await cache.lookup(KEY_A)).toBeUndefined();
    expect(resolve).toHaveBeenCalledTimes(1);

    advance(1);
    await cache.lookup(KEY_A);
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  test('When user-service cannot answer, then the error reaches the caller and nothing is cached', async () => {
    let down = true;
    const { cache, resolve } = cacheWith({
      [KEY_A]: async () => {
        if (down) throw new AppError('UNAVAILABLE', 'user-service is unavailable');
        return resolved('a');
      },
    });

    await expect(cache.lookup(KEY_A)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    down = false;

    expect(await cache.lookup(KEY_A)).toMatchObject({ apiKeyId: 'a' });
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  test('When many requests present the same key at once, then user-service is asked once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { cache, resolve } = cacheWith({
      [KEY_A]: async () => {
        await gate;
        return resolved('a');
      },
    });

    const lookups = Array.from({ length: 10 }, () => cache.lookup(KEY_A));
    release();

    expect((await Promise.all(lookups)).every((p) => p?.apiKeyId === 'a')).toBe(true);
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  test('When a key is evicted, then the next lookup asks user-service, and an answer already in flight is not cached', async () => {
    const { cache, resolve } = cacheWith({ [KEY_A]: async () => resolved('a') });
    await cache.lookup(KEY_A);

    cache.evictKey('a');
    await cache.lookup(KEY_A);
    await cache.lookup(KEY_A);

    expect(resolve).toHaveBeenCalledTimes(3);
  });

  test('When more keys than the bound are resolved, then the least recently used is dropped', async () => {
    const { cache, resolve } = cacheWith(
      {
        [KEY_A]: async () => resolved('a'),
        [KEY_B]: async () => resolved('b'),
        [KEY_C]: async () => resolved('c'),
      },
      2,
    );
    await cache.lookup(KEY_A);
    await cache.lookup(KEY_B);
    await cache.lookup(KEY_A); // A is now the most recently used

    await cache.lookup(KEY_C); // drops B
    await cache.lookup(KEY_A);
    await cache.lookup(KEY_B);

    expect(resolve.mock.calls.map(([secret]) => secret)).toEqual([KEY_A, KEY_B, KEY_C, KEY_B]);
  });
});
