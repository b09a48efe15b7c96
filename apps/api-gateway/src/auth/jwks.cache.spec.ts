import { captureLogger } from '@te/platform';
import { ecKey } from '../../test/support/tokens.js';
import { JwksCache, type PublicJwk } from './jwks.cache.js';

const GAP_MS = 30_000;
const INTERVAL_MS = 300_000;

/** A JWKS endpoint whose answer the test changes; each call is counted. */
function keySource(initial: PublicJwk[]) {
  let answer: () => Promise<PublicJwk[]> = async () => initial;
  const fetchKeys = jest.fn(() => answer());
  return {
    fetchKeys,
    serve: (keys: PublicJwk[]) => (answer = async () => keys),
    fail: (message = 'user-service unavailable') => (answer = async () => Promise.reject(new Error(message))),
  };
}

function cacheWith(source: ReturnType<typeof keySource>) {
  const logs = captureLogger('api-gateway');
  const cache = new JwksCache({
    fetchKeys: source.fetchKeys,
    logger: logs.logger,
    minRefreshGapMs: GAP_MS,
    refreshIntervalMs: INTERVAL_MS,
  });
  return { cache, logs };
}

describe('JwksCache', () => {
  const current = ecKey('current');
  const next = ecKey('next');
  let cache: JwksCache | undefined;

  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => {
    cache?.stop();
    jest.useRealTimers();
  });

  test('When started, then the published signing keys are loaded and returned by kid', async () => {
    const source = keySource([current.jwk, { ...next.jwk, use: 'enc' }]);
    ({ cache } = cacheWith(source));

    await cache.start();

    expect(cache.size).toBe(1);
    const found = await cache.getKey('current');
    expect(found?.alg).toBe('ES256');
    expect(found?.key.asymmetricKeyType).toBe('ec');
    expect(await cache.getKey('next')).toBeUndefined(); // an encryption key never verifies a token
  });

  test('When unknown kids arrive, then the keys are fetched at most once per gap', async () => {
    const source = keySource([current.jwk]);
    ({ cache } = cacheWith(source));
    await cache.start();

    expect(await cache.getKey('forged-1')).toBeUndefined(); // just loaded: no refresh yet
    expect(source.fetchKeys).toHaveBeenCalledTimes(1);

    jest.advanceTimersByTime(GAP_MS);
    await Promise.all([cache.getKey('forged-2'), cache.getKey('forged-3'), cache.getKey('forged-4')]);
    expect(source.fetchKeys).toHaveBeenCalledTimes(2);

    jest.advanceTimersByTime(GAP_MS - 1);
    expect(await cache.getKey('forged-5')).toBeUndefined();
    expect(source.fetchKeys).toHaveBeenCalledTimes(2);
  });

  test('When user-service rotates its key, then a token with the new kid finds it after one refresh', async () => {
    const source = keySource([current.jwk]);
    ({ cache } = cacheWith(source));
    await cache.start();
    source.serve([next.jwk, current.jwk]);
    jest.advanceTimersByTime(GAP_MS);

    const found = await cache.getKey('next');

    expect(found?.key.export({ format: 'jwk' })).toMatchObject({ x: next.jwk.x, y: next.jwk.y });
    expect(await cache.getKey('current')).toBeDefined();
  });

  test('When the periodic refresh runs, then retired keys are dropped and new ones added', async () => {
    const source = keySource([current.jwk]);
    ({ cache } = cacheWith(source));
    await cache.start();
    source.serve([next.jwk]);

    await jest.advanceTimersByTimeAsync(INTERVAL_MS);

    expect(source.fetchKeys).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(1);
    expect(await cache.getKey('next')).toBeDefined();
  });

  test('When a refresh fails, then the keys already held keep verifying and the failure is logged', async () => {
    const source = keySource([current.jwk]);
    const { cache: subject, logs } = cacheWith(source);
    cache = subject;
    await cache.start();
    source.fail();
    jest.advanceTimersByTime(GAP_MS);

    expect(await cache.getKey('unknown-kid')).toBeUndefined();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);

    expect(source.fetchKeys).toHaveBeenCalledTimes(3);
    expect(await cache.getKey('current')).toBeDefined();
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'signing key refresh failed' }),
    );
  });

  test('When the first load fails, then start still resolves and readiness loads the keys later', async () => {
    const source = keySource([current.jwk]);
    source.fail('connection refused');
    const { cache: subject, logs } = cacheWith(source);
    cache = subject;

    await expect(cache.start()).resolves.toBeUndefined();
    expect(cache.size).toBe(0);
    await expect(cache.ensureLoaded()).rejects.toThrow('connection refused');

    source.serve([current.jwk]);
    await expect(cache.ensureLoaded()).resolves.toBeUndefined();
    expect(cache.size).toBe(1);
    expect(logs.text()).toContain('could not load signing keys yet');
  });

  test('When user-service publishes no signing key, then readiness fails', async () => {
    ({ cache } = cacheWith(keySource([])));
    await cache.start();

    await expect(cache.ensureLoaded()).rejects.toThrow('published no signing keys');
  });
});
