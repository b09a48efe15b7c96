import path from 'node:path';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import { AppError, captureLogger, createMetrics, runWithRequestContext } from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createUserServiceApp } from '../src/app.js';
import { Argon2PasswordHasher, OWASP_MINIMUM } from '../src/auth/argon2.password-hasher.js';
import { loadUserServiceConfig } from '../src/config.js';
import type { UserRegisteredData } from '../src/domain/user.js';
import { USAGE_QUEUE } from '../src/events/inference-completed.consumer.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
const PASSWORD = 'correct horse battery staple';
const TEST_QUEUE = 'user-service-test.user-events';
const ADMIN_EMAIL = `operator.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;

describe('user-service (in-process, real PostgreSQL, Redis and RabbitMQ)', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createUserServiceApp>;
  let client: InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['UserService']>;
  let db: pg.Pool;
  let observer: RabbitMqEventBus;
  const events: EventEnvelope<UserRegisteredData>[] = [];
  const captured = captureLogger('user-service');
  let opsPort = 0;

  beforeAll(async () => {
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_user',
      queues: [TEST_QUEUE, USAGE_QUEUE], // USAGE_QUEUE: the service's own consumer, removed at cleanup
    });
    // Stronger than the minimum, so logins of hashes made at the minimum are upgraded (rehash test).
    app = createUserServiceApp(
      loadUserServiceConfig({
        ...env.env,
        ARGON2_TIME_COST: '3',
        ADMIN_EMAILS: `other@example.com,${ADMIN_EMAIL}`,
      }),
      {
        logger: captured.logger,
      },
    );
    const ports = await app.start();
    opsPort = ports.opsPort;
    client = createGrpcClient(loadProtos().te.user.v1.UserService, `127.0.0.1:${ports.grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    });
    db = openTestPool(env.env.DATABASE_URL, 2);
    observer = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      queuePrefix: env.amqp.queuePrefix,
      logger: captured.logger,
      metrics: createMetrics({ service: 'observer', defaultMetrics: false }),
      connectionName: 'test-observer',
    });
    await observer.connect();
    await observer.subscribe<UserRegisteredData>({
      queue: TEST_QUEUE,
      bindings: ['user.registered'],
      handler: async (event) => {
        events.push(event);
      },
    });
    // Migrating a fresh database takes a few seconds on a loaded machine (other suites run in parallel).
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await observer?.close();
    await app?.stop();
    await db?.end();
    await env?.cleanup();
  });

  const uniqueEmail = (tag: string) =>
    `${tag}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  const register = (email: string, password = PASSWORD, name = 'Ada Lovelace') =>
    callUnary(client, 'Register', { email, password, name });
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as AppError;
    }
    throw new Error('expected the call to fail');
  };

  it('When a user registers, then the account is stored with an argon2id hash and a normalised email, and user.registered is published once', async () => {
    const email = uniqueEmail('Ada');
    const response = await runWithRequestContext({ requestId: 'req-register-1' }, () =>
      register(`  ${email.toUpperCase()} `),
    );

    expect(response.user).toMatchObject({
      email: email.toLowerCase(),
      name: 'Ada Lovelace',
      roles: ['user'],
    });
    expect(response.accessToken?.tokenType).toBe('Bearer');
    // Registration signs in: a session with its first refresh token, and the same access token.
    expect(response.session).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      accessToken: response.accessToken,
      refreshToken: expect.stringMatching(/^rt_[A-Za-z0-9_-]{43}$/),
      refreshTokenExpiresIn: 14 * 24 * 3600,
    });
    const { rows } = await db.query('SELECT email, password_hash FROM users WHERE id = $1', [
      response.user!.id,
    ]);
    expect(rows[0].email).toBe(email.toLowerCase());
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);

    const event = await waitFor(() => events.find((e) => e.subject === response.user!.id), {
      timeoutMs: 10_000,
      description: 'user.registered',
    });
    expect(event).toMatchObject({
      type: 'user.registered',
      source: 'user-service',
      request_id: 'req-register-1',
    });
    expect(event.data).toEqual({
      user_id: response.user!.id,
      email: email.toLowerCase(),
      name: 'Ada Lovelace',
      roles: ['user'],
      registered_at: response.user!.createdAt,
    });
    // Delivered means confirmed by the broker; the relay marks the row just after (poll for it).
    await waitFor(
      async () => {
        const outbox = await db.query('SELECT published_at FROM outbox_events WHERE id = $1', [event.id]);
        return outbox.rows[0]?.published_at !== null;
      },
      { timeoutMs: 10_000, description: 'the outbox row to be marked published' },
    );
  });

  it('When the email is already registered in another case, then registration is a CONFLICT naming the email and nothing is published', async () => {
    const email = uniqueEmail('dup');
    const { user } = await register(email);
    await waitFor(() => events.some((e) => e.subject === user!.id), {
      timeoutMs: 10_000,
      description: 'the first registration event',
    });
    const error = await failure(register(email.toUpperCase()));
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('CONFLICT');
    expect(error.fields).toEqual([{ field: 'email', message: 'is already registered' }]);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.data.email === email)).toHaveLength(1);
  });

  it('When the same email registers twice at the same moment, then exactly one succeeds and the other is a CONFLICT', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.allSettled([register(email), register(email), register(email)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as AppError).code)).toEqual(['CONFLICT', 'CONFLICT']);
  });

  it('When registration data is invalid, then one VALIDATION_FAILED lists every bad field and nothing is stored', async () => {
    const error = await failure(
      callUnary(client, 'Register', { email: 'not-an-email', password: 'short', name: '  ' }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((f) => f.field).sort()).toEqual(['email', 'name', 'password']);
    const { rows } = await db.query("SELECT count(*)::int AS n FROM users WHERE email = 'not-an-email'");
    expect(rows[0].n).toBe(0);
  });

  it('When a user logs in, then the token verifies with the key GetJwks publishes and carries the user', async () => {
    const email = uniqueEmail('login');
    const { user } = await register(email);
    const {
      accessToken,
      user: loggedIn,
      session,
    } = await callUnary(client, 'Login', {
      email: ` ${email.toUpperCase()}`,
      password: PASSWORD,
    });
    expect(loggedIn?.id).toBe(user!.id);
    expect(session?.accessToken).toEqual(accessToken);

    const { keys } = await callUnary(client, 'GetJwks', {});
    const header = jwt.decode(accessToken!.token, { complete: true })!.header;
    const jwk = keys.find((k) => k.kid === header.kid)!;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    const publicKey = createPublicKey({
      key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey,
      format: 'jwk',
    });
    const claims = jwt.verify(accessToken!.token, publicKey, {
      algorithms: ['ES256'],
      audience: 'te-explico-api',
      issuer: 'https://te-explico.local',
    });
    expect(claims).toMatchObject({ sub: user!.id, roles: ['user'], sid: session!.id });
  });

  it('When an address listed in ADMIN_EMAILS registers (in any case), then the account is an admin and its token has the admin scopes', async () => {
    const { user, session } = await register(ADMIN_EMAIL.toUpperCase());
    const { user: ordinary } = await register(uniqueEmail('ordinary'));

    expect(user?.roles).toEqual(['user', 'admin']);
    expect(ordinary?.roles).toEqual(['user']);
    const claims = jwt.decode(session!.accessToken!.token) as jwt.JwtPayload;
    expect(claims['roles']).toEqual(['user', 'admin']);
    expect(String(claims['scope']).split(' ')).toContain('admin:usage:read');
  });

  it('When the password is wrong or the account unknown, then both fail with the same UNAUTHENTICATED message', async () => {
    const email = uniqueEmail('wrong');
    await register(email);
    const wrong = await failure(callUnary(client, 'Login', { email, password: 'not the password' }));
    const unknown = await failure(
      callUnary(client, 'Login', { email: uniqueEmail('nobody'), password: PASSWORD }),
    );
    expect([wrong.code, unknown.code]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(wrong.message).toBe(unknown.message);
    const missing = await failure(callUnary(client, 'Login', { email: '', password: '' }));
    expect(missing.code).toBe('VALIDATION_FAILED');
    expect(missing.fields?.map((f) => f.field)).toEqual(['email', 'password']);
  });

  it('When a user logs in with a hash made under weaker parameters, then the hash is upgraded', async () => {
    const email = uniqueEmail('rehash');
    const { user } = await register(email);
    const weakHash = await new Argon2PasswordHasher(OWASP_MINIMUM).hash(PASSWORD);
    expect(weakHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await db.query('UPDATE users SET password_hash = $1 WHERE id = $2', [weakHash, user!.id]);
    await callUnary(client, 'Login', { email, password: PASSWORD });
    const { rows } = await db.query('SELECT password_hash FROM users WHERE id = $1', [user!.id]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
  });

  it('When a user is fetched, then GetUser returns it; an unknown id is NOT_FOUND and a malformed one VALIDATION_FAILED', async () => {
    const { user } = await register(uniqueEmail('get'));
    expect((await callUnary(client, 'GetUser', { id: user!.id })).user).toEqual(user);
    expect(
      (await failure(callUnary(client, 'GetUser', { id: '01a210a7-0000-7000-8000-000000000000' }))).code,
    ).toBe('NOT_FOUND');
    expect((await failure(callUnary(client, 'GetUser', { id: "1' OR '1'='1" }))).code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('When calls were served, then metrics count them, readiness lists its dependencies (and the signing keys), no password reached the logs and the development key was announced', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /grpc_server_handling_seconds_count\{service="te\.user\.v1\.UserService",method="Register",code="OK"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /amqp_messages_published_total\{type="user\.registered",outcome="confirmed"\} [1-9]/,
    );
    const ready = (await (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).json()) as {
      ready: boolean;
      checks: Record<string, unknown>;
    };
    expect(ready.ready).toBe(true);
    expect(Object.keys(ready.checks).sort()).toEqual(['postgres', 'rabbitmq', 'redis', 'signing-keys']);
    expect(captured.text()).not.toContain(PASSWORD);
    // No SIGNING_KEY_ENCRYPTION_KEY here: the development key is used, and start-up says so.
    expect(captured.lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining('SIGNING_KEY_ENCRYPTION_KEY is not set'),
      }),
    );
  });
});
