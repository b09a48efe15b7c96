import type { Request } from 'express';
import type { Strategy } from 'passport';
import { AppError, type Principal } from '@te/platform';
import { fakeRequest } from '../../test/support/fake-http.js';
import { ApiKeyCache } from './api-key.cache.js';
import { createApiKeyStrategy, exceptApiKeys } from './api-key.strategy.js';

const KEY = `tek_3fa9c2d1_${'S'.repeat(43)}`;
const JWT = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
const PRINCIPAL = {
  userId: 'u-1',
  roles: ['user'],
  scopes: ['explain'],
  authMethod: 'api_key',
  apiKeyId: 'k-1',
};

type Outcome =
  { kind: 'success'; principal: Principal } | { kind: 'fail' } | { kind: 'error'; error: unknown };

/** Runs a strategy the way passport does: a fresh object on the strategy's prototype with the actions. */
function run(strategy: Strategy, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as Strategy & Record<string, unknown>;
    attempt['success'] = (principal: Principal) => resolve({ kind: 'success', principal });
    attempt['fail'] = () => resolve({ kind: 'fail' });
    attempt['error'] = (error: unknown) => resolve({ kind: 'error', error });
    (attempt.authenticate as (req: Request, options?: unknown) => void)(fakeRequest(headers), {});
  });
}

function apiKeyStrategy(answer: () => Promise<typeof PRINCIPAL | undefined> = async () => PRINCIPAL) {
  const resolve = jest.fn(async (_secret: string) => {
    const principal = await answer();
    return principal ? { principal, ttlSeconds: 30 } : undefined;
  });
  const cache = new ApiKeyCache({ resolve, maxEntries: 10, negativeTtlMs: 0, maxTtlMs: 0 });
  return { strategy: createApiKeyStrategy(cache), resolve };
}

describe('api-key strategy', () => {
  test.each([
    ['X-API-Key', { 'x-api-key': KEY }],
    ['Authorization: Bearer', { authorization: `Bearer ${KEY}` }],
  ])('When a valid key comes in %s, then the principal is the key’s', async (_where, headers) => {
    const { strategy, resolve } = apiKeyStrategy();

    expect(await run(strategy, headers)).toEqual({ kind: 'success', principal: PRINCIPAL });
    expect(resolve).toHaveBeenCalledWith(KEY);
  });

  test.each([
    ['no credential', {}],
    ['a JWT as bearer', { authorization: `Bearer ${JWT}` }],
    ['a JWT in X-API-Key', { 'x-api-key': JWT }],
    ['a malformed key', { 'x-api-key': `${KEY}x` }],
    ['a key with surrounding spaces', { 'x-api-key': ` ${KEY} ` }],
    ['a key as Basic credentials', { authorization: `Basic ${KEY}` }],
    ['a key in both headers', { 'x-api-key': KEY, authorization: `Bearer ${KEY}` }],
    ['a key and a JWT', { 'x-api-key': KEY, authorization: `Bearer ${JWT}` }],
  ])(
    'When the request has %s, then the strategy fails without asking user-service',
    async (_case, headers) => {
      const { strategy, resolve } = apiKeyStrategy();

      expect(await run(strategy, headers)).toEqual({ kind: 'fail' });
      expect(resolve).not.toHaveBeenCalled();
    },
  );

  test('When user-service says the key is invalid, then the strategy fails', async () => {
    const { strategy } = apiKeyStrategy(async () => undefined);

    expect(await run(strategy, { 'x-api-key': KEY })).toEqual({ kind: 'fail' });
  });

  test('When user-service cannot answer, then the strategy errors (an outage, not a bad key)', async () => {
    const { strategy } = apiKeyStrategy(async () => {
      throw new AppError('UNAVAILABLE', 'user-service is unavailable');
    });

    expect(await run(strategy, { 'x-api-key': KEY })).toMatchObject({
      kind: 'error',
      error: { code: 'UNAVAILABLE' },
    });
  });
});

describe('exceptApiKeys (the JWT strategy guard)', () => {
  /** Stands in for passport-jwt: reads its own state through `this`, as the real one does. */
  function fakeJwtStrategy() {
    const seen: string[] = [];
    const strategy = {
      name: 'jwt',
      principal: { userId: 'from-jwt', roles: [], scopes: [] },
      authenticate(this: Strategy & Record<string, (...args: unknown[]) => void>, req: Request) {
        seen.push(String(req.headers.authorization));
        this['success']((this as unknown as { principal: Principal }).principal);
      },
    } as unknown as Strategy;
    return { strategy, seen };
  }

  test('When the bearer value is a JWT, then the JWT strategy handles it with its own state', async () => {
    const jwt = fakeJwtStrategy();

    const outcome = await run(exceptApiKeys(jwt.strategy), { authorization: `Bearer ${JWT}` });

    expect(outcome).toEqual({ kind: 'success', principal: { userId: 'from-jwt', roles: [], scopes: [] } });
    expect(jwt.seen).toEqual([`Bearer ${JWT}`]);
  });

  test.each([
    ['an API key as bearer', { authorization: `Bearer ${KEY}` }],
    ['anything tek_-shaped as bearer', { authorization: 'Bearer tek_junk' }],
    ['an X-API-Key header next to a JWT', { authorization: `Bearer ${JWT}`, 'x-api-key': KEY }],
  ])('When the request carries %s, then the JWT strategy never sees it', async (_case, headers) => {
    const jwt = fakeJwtStrategy();

    expect(await run(exceptApiKeys(jwt.strategy), headers)).toEqual({ kind: 'fail' });
    expect(jwt.seen).toEqual([]);
  });
});
