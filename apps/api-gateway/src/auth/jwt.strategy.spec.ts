import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import jwt from 'jsonwebtoken';
import type { Strategy } from 'passport-jwt';
import { AppError, captureLogger, type Principal } from '@te/platform';
import {
  ecKey,
  makeToken,
  nowSeconds,
  rsaKey,
  withPayload,
  type TokenOptions,
} from '../../test/support/tokens.js';
import { JwksCache, type PublicJwk } from './jwks.cache.js';
import { createJwtStrategy } from './jwt.strategy.js';

const settings = { issuer: 'https://issuer.test', audience: 'te-api-test', clockToleranceSeconds: 30 };
const signingKey = ecKey('current-key');
// Published too, so "RS256 with a kid the gateway knows" is tested, not just "unknown kid".
const publishedRsaKey = rsaKey('rsa-key');
// A P-256 key published for another algorithm: an ES256 token must not be verified with it.
const es384Key = ecKey('es384-key');

type Outcome =
  | { kind: 'success'; principal: Principal }
  | { kind: 'fail'; reason: unknown }
  | { kind: 'error'; error: unknown };

/** Runs the strategy the way passport does, with the Authorization header given. */
function authenticate(strategy: Strategy, authorization: string | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as Strategy;
    attempt.success = (principal: Principal) => resolve({ kind: 'success', principal });
    attempt.fail = (reason: unknown) => resolve({ kind: 'fail', reason });
    attempt.error = (error: unknown) => resolve({ kind: 'error', error });
    const headers = authorization === undefined ? {} : { authorization };
    attempt.authenticate({ headers } as Request, {});
  });
}

/** The revocation list: a set of revoked session ids, or a Redis that cannot answer. */
function revocationList(revoked: string[] = []) {
  let failure: Error | undefined;
  const isRevoked = jest.fn(async (sessionId: string) => {
    if (failure) throw failure;
    return revoked.includes(sessionId);
  });
  return { isRevoked, failWith: (error: Error) => (failure = error) };
}

function strategyWith(keys: PublicJwk[], revocations = revocationList()) {
  const fetchKeys = jest.fn(async () => keys);
  const jwks = new JwksCache({ fetchKeys, logger: captureLogger('api-gateway').logger, minRefreshGapMs: 0 });
  return { strategy: createJwtStrategy(jwks, settings, revocations), fetchKeys, revocations };
}

const bearer = (token: string) => `Bearer ${token}`;
const token = (options: TokenOptions = {}) => makeToken(signingKey, settings, options);

describe('JWT strategy', () => {
  const { strategy } = strategyWith([signingKey.jwk, publishedRsaKey.jwk, { ...es384Key.jwk, alg: 'ES384' }]);

  test('When an ES256 at+jwt signed by a published key is presented, then its claims become the principal', async () => {
    const sub = '01a210af-fe0f-72ca-91c9-cb337099ec10';
    const sid = '01a210af-fe0f-72ca-91c9-cb337099ec11';

    const outcome = await authenticate(
      strategy,
      bearer(token({ claims: { sub, sid, roles: ['user', 'admin'], scope: 'profile  explain' } })),
    );

    expect(outcome).toEqual({
      kind: 'success',
      principal: {
        userId: sub,
        roles: ['user', 'admin'],
        scopes: ['profile', 'explain'],
        authMethod: 'jwt',
        sessionId: sid,
      },
    });
  });

  test('When the token is made by jsonwebtoken like user-service does, then it is accepted too', async () => {
    const made = jwt.sign({ roles: ['user'], scope: 'profile', sid: randomUUID() }, signingKey.privateKey, {
      algorithm: 'ES256',
      keyid: signingKey.kid,
      header: { alg: 'ES256', typ: 'at+jwt' },
      issuer: settings.issuer,
      audience: settings.audience,
      subject: 'user-1',
      expiresIn: 60,
    });

    const outcome = await authenticate(strategy, bearer(made));

    expect(outcome).toMatchObject({ kind: 'success', principal: { userId: 'user-1', scopes: ['profile'] } });
  });

  test('When the token expired less than the clock tolerance ago, then it is still accepted', async () => {
    const outcome = await authenticate(strategy, bearer(token({ claims: { exp: nowSeconds() - 10 } })));

    expect(outcome.kind).toBe('success');
  });

  test('When roles or scope have unexpected types, then the principal gets none of them', async () => {
    const outcome = await authenticate(
      strategy,
      bearer(token({ claims: { roles: 'admin', scope: ['admin'] } })),
    );

    expect(outcome).toMatchObject({ kind: 'success', principal: { roles: [], scopes: [] } });
  });

  const now = nowSeconds();
  const rejected: [string, () => string | undefined][] = [
    ['no Authorization header', () => undefined],
    ['a Basic Authorization header', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['a bearer value that is not a JWT', () => bearer('not-a-jwt')],
    ['alg none without a signature', () => bearer(token({ header: { alg: 'none' }, signWith: 'none' }))],
    [
      'HS256 keyed with the public key PEM (key confusion)',
      () => {
        const pem = signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
        return bearer(token({ header: { alg: 'HS256' }, signWith: { hs256Secret: pem } }));
      },
    ],
    ['RS256 signed by a published RSA key', () => bearer(makeToken(publishedRsaKey, settings))],
    [
      'RS256 claiming the kid of the ES256 key',
      () => bearer(makeToken({ ...publishedRsaKey, kid: signingKey.kid }, settings)),
    ],
    ['an ES256 signature by a key published for ES384', () => bearer(makeToken(es384Key, settings))],
    ['typ JWT instead of at+jwt', () => bearer(token({ header: { typ: 'JWT' } }))],
    ['no typ', () => bearer(token({ header: { typ: undefined } }))],
    ['a jku header', () => bearer(token({ header: { jku: 'https://attacker.example/jwks.json' } }))],
    ['an x5u header', () => bearer(token({ header: { x5u: 'https://attacker.example/cert.pem' } }))],
    ['an embedded jwk header', () => bearer(token({ header: { jwk: signingKey.jwk } }))],
    ['an x5c header', () => bearer(token({ header: { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOC'] } }))],
    ['a crit header', () => bearer(token({ header: { crit: ['exp'] } }))],
    ['no kid', () => bearer(token({ header: { kid: undefined } }))],
    ['an unknown kid', () => bearer(makeToken(ecKey('someone-elses-key'), settings))],
    [
      'a known kid but another key’s signature',
      () => bearer(makeToken({ ...ecKey(), kid: signingKey.kid }, settings)),
    ],
    ['exp beyond the clock tolerance', () => bearer(token({ claims: { iat: now - 1000, exp: now - 60 } }))],
    ['nbf beyond the clock tolerance', () => bearer(token({ claims: { nbf: now + 120 } }))],
    ['another issuer', () => bearer(token({ claims: { iss: 'https://attacker.example' } }))],
    ['another audience', () => bearer(token({ claims: { aud: 'some-other-api' } }))],
    [
      'a payload changed after signing',
      () => {
        const original = token({ claims: { sub: 'user-1' } });
        const claims = JSON.parse(Buffer.from(original.split('.')[1], 'base64url').toString()) as object;
        return bearer(withPayload(original, { ...claims, sub: 'user-2', roles: ['admin'] }));
      },
    ],
    ['no sub', () => bearer(token({ claims: { sub: undefined } }))],
    ['an empty sub', () => bearer(token({ claims: { sub: '' } }))],
    [
      'no sid (a token that no session could ever revoke)',
      () => bearer(token({ claims: { sid: undefined } })),
    ],
    ['a sid that is not a session id', () => bearer(token({ claims: { sid: 'admin' } }))],
  ];

  test.each(rejected)(
    'When the request has %s, then it is rejected without a principal',
    async (_case, header) => {
      const outcome = await authenticate(strategy, header());

      expect(outcome.kind).toBe('fail');
    },
  );

  test('When the token’s session was revoked, then it is rejected although signature and claims are valid', async () => {
    const revokedSession = randomUUID();
    const { strategy: guarded, revocations } = strategyWith(
      [signingKey.jwk],
      revocationList([revokedSession]),
    );

    const revoked = await authenticate(guarded, bearer(token({ claims: { sid: revokedSession } })));
    const live = await authenticate(guarded, bearer(token({ claims: { sid: randomUUID() } })));

    expect(revoked.kind).toBe('fail');
    expect(live.kind).toBe('success');
    expect(revocations.isRevoked).toHaveBeenCalledWith(revokedSession);
  });

  test('When the revocation list cannot be read, then authentication errors (503 upstream) instead of letting the token through', async () => {
    const { strategy: guarded, revocations } = strategyWith([signingKey.jwk]);
    const outage = new AppError('UNAVAILABLE', 'Session revocations are unavailable');
    revocations.failWith(outage);

    const outcome = await authenticate(guarded, bearer(token()));

    expect(outcome).toEqual({ kind: 'error', error: outage });
  });

  test('When a token is rejected before its claims are trusted, then the revocation list is not consulted', async () => {
    const { strategy: guarded, revocations } = strategyWith([signingKey.jwk]);

    await authenticate(guarded, bearer(token({ claims: { aud: 'another-api' } })));
    await authenticate(guarded, bearer(makeToken(ecKey('unknown'), settings)));

    expect(revocations.isRevoked).not.toHaveBeenCalled();
  });

  test('When a kid is unknown, then the keys are fetched again before the token is rejected', async () => {
    const rotated = ecKey('rotated-in');
    const keys = [signingKey.jwk];
    const { strategy: fresh, fetchKeys } = strategyWith(keys);
    expect((await authenticate(fresh, bearer(token()))).kind).toBe('success');
    keys.push(rotated.jwk);

    const outcome = await authenticate(fresh, bearer(makeToken(rotated, settings)));

    expect(outcome.kind).toBe('success');
    expect(fetchKeys).toHaveBeenCalledTimes(2);
  });

  test('When the header is rejected, then no key lookup (and no refresh) happens', async () => {
    const { strategy: fresh, fetchKeys } = strategyWith([signingKey.jwk]);

    await authenticate(
      fresh,
      bearer(token({ header: { alg: 'none', kid: 'random-kid' }, signWith: 'none' })),
    );
    await authenticate(fresh, bearer(token({ header: { jku: 'https://x.example', kid: 'random-kid' } })));

    expect(fetchKeys).not.toHaveBeenCalled();
  });
});
