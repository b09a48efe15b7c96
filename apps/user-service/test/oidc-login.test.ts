import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import { AppError, captureLogger, createMetrics, runWithRequestContext } from '@te/platform';
import { createServiceTestEnv, freePort, waitFor, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createUserServiceApp } from '../src/app.js';
import { loadUserServiceConfig } from '../src/config.js';
import type { UserRegisteredData } from '../src/domain/user.js';
import { OpenIdProvider, signInAtProvider, type AccountClaims } from './support/openid-provider.js';

// user-service in this process (real PostgreSQL, Redis, RabbitMQ) signing users in with two real
// OpenID Providers on loopback: "corp" keeps email in userinfo, "social" puts it in the ID token.
const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
const TEST_QUEUE = 'user-service-oidc-test.user-events';
const REDIRECT_BASE = 'https://gateway.oidc-tests.te.local';
const redirectUri = (provider: string) => `${REDIRECT_BASE}/api/v1/auth/oidc/${provider}/callback`;
const CLIENT = { client_id: 'te-explico', client_secret: `secret-${randomUUID()}` };

const metrics = () => createMetrics({ service: 'test-client', defaultMetrics: false });
const captured = captureLogger('user-service');
let env: ServiceTestEnv;
let app: ReturnType<typeof createUserServiceApp>;
let corp: OpenIdProvider;
let social: OpenIdProvider;
let lateProvider: OpenIdProvider | undefined;
let latePort: number;
let oidc: InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['OidcService']>;
let users: InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['UserService']>;
let db: pg.Pool;
let redis: Redis;
let observer: RabbitMqEventBus;
const events: EventEnvelope<UserRegisteredData>[] = [];

beforeAll(async () => {
  corp = await OpenIdProvider.start({
    clients: [{ ...CLIENT, redirect_uris: [redirectUri('corp')] }],
    idTokenClaims: false,
  });
  social = await OpenIdProvider.start({
    clients: [{ ...CLIENT, redirect_uris: [redirectUri('social')] }],
    idTokenClaims: true,
  });
  latePort = await freePort();
  env = await createServiceTestEnv({
    schemaPath: SCHEMA,
    databaseName: 'te_user',
    queues: [TEST_QUEUE, 'user-service.usage'],
  });
  const config = loadUserServiceConfig({
    ...env.env,
    OIDC_PROVIDERS: 'corp,social,late',
    OIDC_REDIRECT_BASE_URL: REDIRECT_BASE,
    ...providerEnv('CORP', corp.issuer),
    ...providerEnv('SOCIAL', social.issuer),
    // Not running yet: proves discovery is lazy and retried.
    ...providerEnv('LATE', `http://127.0.0.1:${latePort}`),
  });
  app = createUserServiceApp(config, { logger: captured.logger });
  const { grpcPort } = await app.start();
  const protos = loadProtos().te.user.v1;
  oidc = createGrpcClient(protos.OidcService, `127.0.0.1:${grpcPort}`, {
    logger: captured.logger,
    metrics: metrics(),
  });
  users = createGrpcClient(protos.UserService, `127.0.0.1:${grpcPort}`, {
    logger: captured.logger,
    metrics: metrics(),
  });
  db = openTestPool(env.env.DATABASE_URL, 2);
  redis = new Redis(env.env.REDIS_URL, { keyPrefix: env.env.REDIS_KEY_PREFIX });
  observer = new RabbitMqEventBus({
    url: env.amqp.url,
    exchange: env.amqp.exchange,
    queuePrefix: env.amqp.queuePrefix,
    logger: captured.logger,
    metrics: metrics(),
    connectionName: 'oidc-test-observer',
  });
  await observer.connect();
  await observer.subscribe<UserRegisteredData>({
    queue: TEST_QUEUE,
    bindings: ['user.registered'],
    handler: async (event) => {
      events.push(event);
    },
  });
}, 120_000);

afterAll(async () => {
  oidc?.close();
  users?.close();
  await observer?.close();
  await app?.stop();
  await db?.end();
  redis?.disconnect();
  await env?.cleanup();
  await Promise.all([corp?.stop(), social?.stop(), lateProvider?.stop()]);
}, 60_000);

function providerEnv(id: string, issuer: string): Record<string, string> {
  return {
    [`OIDC_${id}_ISSUER`]: issuer,
    [`OIDC_${id}_CLIENT_ID`]: CLIENT.client_id,
    [`OIDC_${id}_CLIENT_SECRET`]: CLIENT.client_secret,
  };
}

/** An account at the provider with a unique subject and (by default) a unique, verified email. */
async function providerAccount(provider: OpenIdProvider, claims: AccountClaims = {}) {
  const subject = `sub-${randomUUID()}`;
  const account = {
    email: `oidc.${randomUUID().slice(0, 8)}@example.com`,
    email_verified: true,
    name: 'Grace Hopper',
    ...claims,
  };
  await provider.addAccount(subject, account);
  return { subject, ...account };
}

type Provider = 'corp' | 'social' | 'late';
const providers: Record<Exclude<Provider, 'late'>, () => OpenIdProvider> = {
  corp: () => corp,
  social: () => social,
};

/** StartLogin, then the browser at the provider, up to the callback URL (not yet completed). */
async function reachCallback(provider: Provider, subject: string, options: { abort?: boolean } = {}) {
  const start = await callUnary(oidc, 'StartLogin', { provider });
  const callbackUrl = await signInAtProvider(start.authorizationUrl, redirectUri(provider), subject, options);
  const complete = (overrides: { callbackUrl?: string; browserBinding?: string } = {}) =>
    runWithRequestContext(
      { requestId: `oidc-${randomUUID()}`, client: { ip: '203.0.113.7', userAgent: 'oidc-test/1.0' } },
      () =>
        callUnary(oidc, 'CompleteLogin', {
          provider,
          callbackUrl: overrides.callbackUrl ?? callbackUrl,
          browserBinding: overrides.browserBinding ?? start.browserBinding,
        }),
    );
  return { start, callbackUrl, complete };
}

const signIn = async (provider: Provider, subject: string) =>
  (await reachCallback(provider, subject)).complete();

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}

const query = async <T = Record<string, unknown>>(sql: string, values: unknown[]) =>
  (await db.query(sql, values)).rows as T[];
const identitiesOf = (userId: string) =>
  query<{ provider: string; subject: string; email: string }>(
    'SELECT provider, subject, email FROM oidc_identities WHERE user_id = $1 ORDER BY created_at',
    [userId],
  );
const securityEvents = (userId: string, type: string) =>
  query<{ details: Record<string, unknown>; ip: string; user_agent: string }>(
    'SELECT details, ip, user_agent FROM security_events WHERE user_id = $1 AND type = $2',
    [userId, type],
  );
const attemptKey = (state: string) =>
  `oidc:attempt:${createHash('sha256').update(state).digest('base64url')}`;
const stateOf = (url: string) => new URL(url).searchParams.get('state')!;

describe('starting a sign-in', () => {
  test('When a sign-in starts, then the authorization URL asks for a code with PKCE S256, state, nonce and the configured redirect URI, and only the attempt hash is kept in Redis for at most 10 minutes', async () => {
    const { authorizationUrl, browserBinding } = await callUnary(oidc, 'StartLogin', { provider: 'corp' });

    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${corp.issuer}/auth`);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toEqual({
      response_type: 'code',
      client_id: CLIENT.client_id,
      redirect_uri: redirectUri('corp'),
      scope: 'openid email profile',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });
    expect(browserBinding).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const key = attemptKey(params['state']);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    const stored = JSON.parse((await redis.get(key))!) as Record<string, string>;
    // The challenge is the S256 of the stored verifier; the state and the binding itself are not stored.
    expect(createHash('sha256').update(stored['codeVerifier']).digest('base64url')).toBe(
      params['code_challenge'],
    );
    expect(stored['nonce']).toBe(params['nonce']);
    expect(stored).not.toHaveProperty('state');
    expect(JSON.stringify(stored)).not.toContain(browserBinding);
  });

  test('When two sign-ins start, then each gets its own state, nonce, verifier and binding', async () => {
    const first = await callUnary(oidc, 'StartLogin', { provider: 'social' });
    const second = await callUnary(oidc, 'StartLogin', { provider: 'social' });

    const [a, b] = [first, second].map((start) => new URL(start.authorizationUrl).searchParams);
    for (const name of ['state', 'nonce', 'code_challenge']) expect(a.get(name)).not.toBe(b.get(name));
    expect(first.browserBinding).not.toBe(second.browserBinding);
  });

  test('When the provider is not configured, then StartLogin and CompleteLogin are NOT_FOUND', async () => {
    const start = await failure(callUnary(oidc, 'StartLogin', { provider: 'nope' }));
    const complete = await failure(
      callUnary(oidc, 'CompleteLogin', {
        provider: 'nope',
        callbackUrl: `${redirectUri('nope')}?code=x&state=y`,
        browserBinding: 'z',
      }),
    );

    expect([start.code, complete.code]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });

  test('When both providers are configured, then ListProviders lists them in configuration order', async () => {
    expect(await callUnary(oidc, 'ListProviders', {})).toEqual({ providers: ['corp', 'social', 'late'] });
  });

  test('When a provider is unreachable, then StartLogin is UNAVAILABLE, and once it is up discovery is retried and sign-in works', async () => {
    const down = await failure(callUnary(oidc, 'StartLogin', { provider: 'late' }));
    expect(down.code).toBe('UNAVAILABLE');
    expect(captured.lines()).toContainEqual(
      expect.objectContaining({ message: 'oidc discovery failed', provider: 'late' }),
    );

    lateProvider = await OpenIdProvider.start({
      clients: [{ ...CLIENT, redirect_uris: [redirectUri('late')] }],
      idTokenClaims: true,
      port: latePort,
    });
    const account = await providerAccount(lateProvider);
    const { user, created } = await signIn('late', account.subject);

    expect(created).toBe(true);
    expect(user!.email).toBe(account.email);
  });
});

describe('new accounts', () => {
  test.each(['corp', 'social'] as const)(
    'When someone new signs in with %s, then an account without password is created with the identity, user.registered goes out through the outbox, and a session for oidc:<provider> is opened',
    async (provider) => {
      const account = await providerAccount(providers[provider](), {
        email: `New.${randomUUID().slice(0, 8)}@Example.com`,
        name: 'Grace\u0007 Hopper',
      });

      const response = await signIn(provider, account.subject);

      const email = account.email.toLowerCase();
      expect(response.created).toBe(true);
      expect(response.user).toMatchObject({ email, name: 'Grace Hopper', roles: ['user'] });
      const userId = response.user!.id;
      const [row] = await query<{ password_hash: string | null }>(
        'SELECT password_hash FROM users WHERE id = $1',
        [userId],
      );
      expect(row.password_hash).toBeNull();
      expect(await identitiesOf(userId)).toEqual([{ provider, subject: account.subject, email }]);

      const event = await waitFor(() => events.find((e) => e.subject === userId), {
        timeoutMs: 10_000,
        description: 'user.registered',
      });
      expect(event.data).toEqual({
        user_id: userId,
        email,
        name: 'Grace Hopper',
        roles: ['user'],
        registered_at: response.user!.createdAt,
      });

      const session = response.session!;
      expect(session.refreshToken).toEqual(expect.any(String));
      expect(session.refreshTokenExpiresIn).toBeGreaterThan(0);
      const claims = JSON.parse(
        Buffer.from(session.accessToken!.token.split('.')[1], 'base64url').toString(),
      );
      expect(claims).toMatchObject({ sub: userId, sid: session.id });
      const sessions = await query('SELECT auth_method FROM sessions WHERE id = $1 AND user_id = $2', [
        session.id,
        userId,
      ]);
      expect(sessions).toEqual([{ auth_method: `oidc:${provider}` }]);
      const [signInEvent] = await securityEvents(userId, 'sign_in');
      expect(signInEvent).toMatchObject({
        details: { method: `oidc:${provider}` },
        ip: '203.0.113.7',
        user_agent: 'oidc-test/1.0',
      });
    },
  );

  test('When the same provider account signs in again, then it is the same user through the stored identity, even after its email changed at the provider', async () => {
    const account = await providerAccount(corp);
    const first = await signIn('corp', account.subject);
    await corp.addAccount(account.subject, {
      ...account,
      email: `changed.${randomUUID().slice(0, 8)}@example.com`,
    });

    const second = await signIn('corp', account.subject);

    expect(second.created).toBe(false);
    expect(second.user!.id).toBe(first.user!.id);
    expect(second.user!.email).toBe(account.email);
    expect(second.session!.id).not.toBe(first.session!.id);
    expect(await identitiesOf(first.user!.id)).toHaveLength(1);
    const rows = await query(
      "SELECT count(*)::int AS n FROM outbox_events WHERE type = 'user.registered' AND envelope->>'subject' = $1",
      [first.user!.id],
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  test('When the provider has not verified an email nobody uses, then no account is created (pre-hijacking) and the refusal is PERMISSION_DENIED', async () => {
    const account = await providerAccount(social, { email_verified: false });

    const error = await failure(signIn('social', account.subject));

    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/not verified/);
    expect(await query('SELECT id FROM users WHERE email = $1', [account.email])).toEqual([]);
    expect(await query('SELECT id FROM oidc_identities WHERE subject = $1', [account.subject])).toEqual([]);
  });

  test('When the provider shares no email at all, then no account is created', async () => {
    const subject = `sub-${randomUUID()}`;
    await corp.addAccount(subject, { name: 'No Email' });

    const error = await failure(signIn('corp', subject));

    expect(error.code).toBe('FORBIDDEN');
    expect(await query('SELECT id FROM oidc_identities WHERE subject = $1', [subject])).toEqual([]);
  });
});

describe('linking by email', () => {
  const registerPasswordAccount = async (email: string) =>
    (await callUnary(users, 'Register', { email, password: 'correct horse battery staple', name: 'Ada' }))
      .user!;

  test('When the verified email of a provider account matches a password account, then the identity is linked to it, the password is kept and oidc_linked is audited', async () => {
    const account = await providerAccount(corp);
    const existing = await registerPasswordAccount(account.email);
    const [before] = await query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      existing.id,
    ]);

    const response = await signIn('corp', account.subject);

    expect(response.created).toBe(false);
    expect(response.user).toMatchObject({ id: existing.id, email: account.email, name: 'Ada' });
    expect(await identitiesOf(existing.id)).toEqual([
      { provider: 'corp', subject: account.subject, email: account.email },
    ]);
    const [after] = await query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      existing.id,
    ]);
    expect(after.password_hash).toBe(before.password_hash);
    expect(await securityEvents(existing.id, 'oidc_linked')).toEqual([
      { details: { provider: 'corp' }, ip: '203.0.113.7', user_agent: 'oidc-test/1.0' },
    ]);
    // Linking is not a registration: the only user.registered of the account is its own.
    const outbox = await query(
      "SELECT count(*)::int AS n FROM outbox_events WHERE type = 'user.registered' AND envelope->>'subject' = $1",
      [existing.id],
    );
    expect(outbox).toEqual([{ n: 1 }]);
  });

  test('When the same verified email signs in through both providers, then both identities belong to one account', async () => {
    const email = `both.${randomUUID().slice(0, 8)}@example.com`;
    const atCorp = await providerAccount(corp, { email });
    const atSocial = await providerAccount(social, { email });

    const first = await signIn('corp', atCorp.subject);
    const second = await signIn('social', atSocial.subject);

    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.user!.id).toBe(first.user!.id);
    expect((await identitiesOf(first.user!.id)).map((i) => i.provider)).toEqual(['corp', 'social']);
  });

  test('When an unverified provider email matches an existing account, then PERMISSION_DENIED, nothing is linked or signed in, and the owner sees the attempt in their security log', async () => {
    const account = await providerAccount(social, { email_verified: false });
    const existing = await registerPasswordAccount(account.email);

    const error = await failure(signIn('social', account.subject));

    expect(error.code).toBe('FORBIDDEN');
    expect(await identitiesOf(existing.id)).toEqual([]);
    expect(
      await query('SELECT id FROM sessions WHERE user_id = $1 AND auth_method LIKE $2', [
        existing.id,
        'oidc:%',
      ]),
    ).toEqual([]);
    expect(await securityEvents(existing.id, 'sign_in_failed')).toEqual([
      expect.objectContaining({ details: { method: 'oidc:social', reason: 'email_unverified' } }),
    ]);
  });
});

describe('callback checks', () => {
  test('When a successful callback is replayed, then the second use is UNAUTHENTICATED (single-use state)', async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);
    await attempt.complete();

    const replay = await failure(attempt.complete());

    expect(replay.code).toBe('UNAUTHENTICATED');
    expect(replay.message).toMatch(/invalid or has expired/);
  });

  test('When the state is unknown, missing or repeated, then the callback is UNAUTHENTICATED', async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);
    const url = new URL(attempt.callbackUrl);
    const withState = (mutate: (params: URLSearchParams) => void) => {
      const copy = new URL(url);
      mutate(copy.searchParams);
      return copy.href;
    };

    const results = await Promise.all(
      [
        withState((p) => p.set('state', 'A'.repeat(43))),
        withState((p) => p.delete('state')),
        withState((p) => p.append('state', p.get('state')!)),
      ].map((callbackUrl) => failure(attempt.complete({ callbackUrl }))),
    );

    expect(results.map((e) => e.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
  });

  test('When the callback comes back without the browser binding of the attempt, then it is refused and the attempt is spent (a later correct callback fails too)', async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);

    const wrong = await failure(attempt.complete({ browserBinding: 'x'.repeat(43) }));
    const retried = await failure(attempt.complete());

    expect([wrong.code, retried.code]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(await query('SELECT id FROM oidc_identities WHERE subject = $1', [account.subject])).toEqual([]);
  });

  test("When a state of one provider is presented at another provider's callback, then it is refused before any exchange (mix-up, RFC 9700 §4.4)", async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);
    const userAgent = `mix-up-${randomUUID()}`;

    const error = await failure(
      runWithRequestContext({ requestId: 'mix-up', client: { userAgent } }, () =>
        callUnary(oidc, 'CompleteLogin', {
          provider: 'social',
          callbackUrl: attempt.callbackUrl,
          browserBinding: attempt.start.browserBinding,
        }),
      ),
    );

    expect(error.code).toBe('UNAUTHENTICATED');
    const failures = await query('SELECT details FROM security_events WHERE user_agent = $1', [userAgent]);
    expect(failures).toEqual([{ details: { method: 'oidc:social', reason: 'invalid_state' } }]);
  });

  test('When the user cancels at the provider, then the error callback is UNAUTHENTICATED with our message, not the provider description', async () => {
    const account = await providerAccount(social);
    const attempt = await reachCallback('social', account.subject, { abort: true });
    expect(new URL(attempt.callbackUrl).searchParams.get('error')).toBe('access_denied');

    const error = await failure(attempt.complete());

    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toBe('The provider did not complete the sign-in');
    const failures = await query<{ details: Record<string, unknown> }>(
      "SELECT details FROM security_events WHERE type = 'sign_in_failed' AND details->>'reason' = 'access_denied'",
      [],
    );
    expect(failures.length).toBeGreaterThan(0);
  });

  test('When the attempt nonce differs from the ID token nonce, then the sign-in is refused (nonce is checked)', async () => {
    const account = await providerAccount(social);
    const attempt = await reachCallback('social', account.subject);
    await tamperAttempt(stateOf(attempt.callbackUrl), { nonce: 'n'.repeat(43) });

    const error = await failure(attempt.complete());

    expect(error.code).toBe('UNAUTHENTICATED');
    expect(await query('SELECT id FROM oidc_identities WHERE subject = $1', [account.subject])).toEqual([]);
    expect(captured.lines()).toContainEqual(
      expect.objectContaining({ message: 'oidc sign-in rejected', provider: 'social' }),
    );
  });

  test('When the code verifier does not match the challenge, then the provider refuses the code and the sign-in is UNAUTHENTICATED (PKCE is enforced)', async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);
    await tamperAttempt(stateOf(attempt.callbackUrl), { codeVerifier: 'v'.repeat(43) });

    const error = await failure(attempt.complete());

    expect(error.code).toBe('UNAUTHENTICATED');
    expect(captured.lines()).toContainEqual(
      expect.objectContaining({ message: 'oidc sign-in rejected', oauth_error: 'invalid_grant' }),
    );
  });

  test('When the callback URL reports another origin, then the configured redirect URI is still the one sent to the provider', async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);
    const elsewhere = new URL(attempt.callbackUrl);
    elsewhere.host = 'evil.example';

    const response = await attempt.complete({ callbackUrl: elsewhere.href });

    expect(response.user!.email).toBe(account.email);
  });

  test('When a sign-in completes, then no code, state, token, binding or client secret appears in the logs', async () => {
    const account = await providerAccount(corp);
    const attempt = await reachCallback('corp', account.subject);
    const response = await attempt.complete();

    const text = captured.text();
    const callback = new URL(attempt.callbackUrl).searchParams;
    for (const secret of [
      callback.get('code')!,
      callback.get('state')!,
      attempt.start.browserBinding,
      response.session!.refreshToken,
      response.session!.accessToken!.token,
      CLIENT.client_secret,
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

async function tamperAttempt(state: string, changes: Record<string, string>): Promise<void> {
  const key = attemptKey(state);
  const stored = JSON.parse((await redis.get(key))!) as Record<string, string>;
  await redis.set(key, JSON.stringify({ ...stored, ...changes }), 'EX', 600);
}
