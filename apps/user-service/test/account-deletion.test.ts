import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import {
  AppError,
  captureLogger,
  createMetrics,
  runWithRequestContext,
  scopesForRoles,
  type Principal,
} from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createUserServiceApp } from '../src/app.js';
import { loadUserServiceConfig } from '../src/config.js';
import type { UserDeletedData } from '../src/domain/delete-account.use-case.js';
import type { SessionRevokedData } from '../src/domain/session.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
const PASSWORD = 'correct horse battery staple';
const OBSERVER_QUEUE = 'account-deletion-test.user-events';
/** Every table holding rows of a user (schema.prisma); each must be empty for a deleted account. */
const USER_TABLES = [
  'sessions',
  'refresh_tokens',
  'api_keys',
  'oidc_identities',
  'security_events',
  'usage_daily',
] as const;

// user-service in-process against the machine's PostgreSQL, Redis and RabbitMQ (this run's own names);
// a second bus plays "every other service" and listens for user.deleted on the run's exchange.
describe('DeleteAccount', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createUserServiceApp>;
  let client: InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['UserService']>;
  let db: pg.Pool;
  let observer: RabbitMqEventBus;
  const deletions: EventEnvelope<UserDeletedData>[] = [];
  const revocations: EventEnvelope<SessionRevokedData>[] = [];
  const captured = captureLogger('user-service', 'info');

  beforeAll(async () => {
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_user',
      queues: [OBSERVER_QUEUE, 'user-service.usage'],
    });
    app = createUserServiceApp(loadUserServiceConfig(env.env), { logger: captured.logger });
    const { grpcPort } = await app.start();
    client = createGrpcClient(loadProtos().te.user.v1.UserService, `127.0.0.1:${grpcPort}`, {
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
    await observer.subscribe<UserDeletedData | SessionRevokedData>({
      queue: OBSERVER_QUEUE,
      bindings: ['user.deleted', 'session.revoked'],
      handler: async (event) => {
        if (event.type === 'user.deleted') deletions.push(event as EventEnvelope<UserDeletedData>);
        else revocations.push(event as EventEnvelope<SessionRevokedData>);
      },
    });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await observer?.close();
    await app?.stop();
    await db?.end();
    await env?.cleanup();
  }, 60_000);

  const principal = (userId: string, extra: Partial<Principal> = {}): Principal => ({
    userId,
    roles: ['user'],
    scopes: scopesForRoles(['user']),
    authMethod: 'jwt',
    ...extra,
  });
  const as = <T>(who: Principal, fn: () => Promise<T>) =>
    runWithRequestContext({ requestId: randomUUID(), principal: who }, fn);
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as AppError;
    }
    throw new Error('expected the call to fail');
  };
  const uniqueEmail = () => `delete.${randomUUID().slice(0, 8)}@example.com`;

  /** A registered account with a row in every table that belongs to it. */
  async function accountWithData(
    email = uniqueEmail(),
  ): Promise<{ id: string; sessionIds: string[]; apiKeyIds: string[] }> {
    const { user } = await callUnary(client, 'Register', {
      email,
      password: PASSWORD,
      name: 'To Be Deleted',
    });
    const id = user!.id;
    const sessions = [randomUUID(), randomUUID()];
    for (const session of sessions) {
      await db.query(
        `INSERT INTO sessions (id, user_id, auth_method, expires_at) VALUES ($1, $2, 'password', now() + interval '1 day')`,
        [session, id],
      );
      await db.query(
        `INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + interval '1 day')`,
        [randomUUID(), session, randomUUID()],
      );
    }
    const apiKeyId = randomUUID();
    await db.query(
      `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes) VALUES ($1, $2, 'ci', $3, 'hash', '{usage:read}')`,
      [apiKeyId, id, `te_${randomUUID().slice(0, 8)}`],
    );
    await db.query(
      `INSERT INTO oidc_identities (id, provider, subject, user_id, email) VALUES ($1, 'corp', $2, $3, $4)`,
      [randomUUID(), randomUUID(), id, email],
    );
    await db.query(`INSERT INTO security_events (id, user_id, type) VALUES ($1, $2, 'sign_in')`, [
      randomUUID(),
      id,
    ]);
    await db.query(
      `INSERT INTO usage_daily (user_id, day, model, requests, updated_at) VALUES ($1, '2026-03-01', 'm', 1, now())`,
      [id],
    );
    // Whatever sessions registration itself opened count too.
    const { rows } = await db.query('SELECT id FROM sessions WHERE user_id = $1', [id]);
    return { id, sessionIds: rows.map((row) => row.id as string), apiKeyIds: [apiKeyId] };
  }

  async function rowsOf(userId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const { rows } = await db.query('SELECT count(*)::int AS n FROM users WHERE id = $1', [userId]);
    counts['users'] = rows[0].n as number;
    for (const table of USER_TABLES) {
      const query =
        table === 'refresh_tokens'
          ? 'SELECT count(*)::int AS n FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = $1'
          : `SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`;
      counts[table] = ((await db.query(query, [userId])).rows[0].n as number) ?? 0;
    }
    return counts;
  }

  it('When a user deletes their account, then every row of theirs is gone, their sessions and API keys are returned, and user.deleted and session.revoked are published once', async () => {
    const email = uniqueEmail();
    const victim = await accountWithData(email);
    const bystander = await accountWithData();
    const bystanderBefore = await rowsOf(bystander.id);
    const before = await rowsOf(victim.id);
    expect(Object.values(before).every((n) => n >= 1)).toBe(true);
    // Refresh tokens are reached through their session; count them before the cascade removes both.
    const { rows: tokens } = await db.query(
      'SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = ANY($1::uuid[])',
      [victim.sessionIds],
    );
    expect(tokens[0].n).toBeGreaterThanOrEqual(2);

    const response = await as(principal(victim.id), () => callUnary(client, 'DeleteAccount', {}));

    expect([...response.revokedSessionIds].sort()).toEqual([...victim.sessionIds].sort());
    expect(response.revokedApiKeyIds).toEqual(victim.apiKeyIds);
    expect(Object.values(await rowsOf(victim.id)).every((n) => n === 0)).toBe(true);
    const { rows: orphanTokens } = await db.query(
      'SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = ANY($1::uuid[])',
      [victim.sessionIds],
    );
    expect(orphanTokens[0].n).toBe(0);
    expect(await rowsOf(bystander.id)).toEqual(bystanderBefore);

    const event = await waitFor(() => deletions.find((e) => e.subject === victim.id), {
      timeoutMs: 10_000,
      description: 'user.deleted',
    });
    expect(event).toMatchObject({ type: 'user.deleted', source: 'user-service', subject: victim.id });
    expect(event.data).toEqual({ user_id: victim.id, deleted_at: expect.any(String) });
    expect(Math.abs(Date.parse(event.data.deleted_at) - Date.now())).toBeLessThan(60_000);
    // The event carries no personal data beyond the id: the email is nowhere in it.
    expect(JSON.stringify(event)).not.toContain(email);
    // Delivered means confirmed by the broker; the relay marks the row just after (poll for it).
    await waitFor(
      async () => {
        const { rows } = await db.query('SELECT published_at FROM outbox_events WHERE id = $1', [event.id]);
        return rows[0]?.published_at !== null;
      },
      { timeoutMs: 10_000, description: 'the user.deleted outbox row to be marked published' },
    );
    // The gateways learn of the ended sessions through session.revoked (their revocation list).
    const revoked = await waitFor(() => revocations.find((e) => e.subject === victim.id), {
      timeoutMs: 10_000,
      description: 'session.revoked',
    });
    expect(revoked.data).toEqual({
      user_id: victim.id,
      session_ids: expect.arrayContaining(victim.sessionIds),
      reason: 'account_deleted',
      revoked_at: event.data.deleted_at,
    });
    expect(revoked.data.session_ids).toHaveLength(victim.sessionIds.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deletions.filter((e) => e.subject === victim.id)).toHaveLength(1);
  });

  it('When the account is deleted, then it is gone for GetMe, sign-in and a second deletion, and its email can register again', async () => {
    const email = uniqueEmail();
    const { id } = await accountWithData(email);
    await as(principal(id), () => callUnary(client, 'DeleteAccount', {}));

    expect((await failure(as(principal(id), () => callUnary(client, 'GetMe', {})))).code).toBe('NOT_FOUND');
    expect((await failure(as(principal(id), () => callUnary(client, 'DeleteAccount', {})))).code).toBe(
      'NOT_FOUND',
    );
    expect((await failure(callUnary(client, 'Login', { email, password: PASSWORD }))).code).toBe(
      'UNAUTHENTICATED',
    );

    const again = await callUnary(client, 'Register', { email, password: PASSWORD, name: 'Back Again' });
    expect(again.user).toMatchObject({ email, name: 'Back Again' });
    expect(again.user!.id).not.toBe(id);
  });

  it('When the caller is unauthenticated or uses an API key, then nothing is deleted and nothing is published', async () => {
    const { id } = await accountWithData();
    const before = await rowsOf(id);

    expect((await failure(callUnary(client, 'DeleteAccount', {}))).code).toBe('UNAUTHENTICATED');
    const byKey = await failure(
      as(principal(id, { authMethod: 'api_key', apiKeyId: randomUUID(), scopes: ['profile:write'] }), () =>
        callUnary(client, 'DeleteAccount', {}),
      ),
    );
    expect(byKey.code).toBe('FORBIDDEN');

    expect(await rowsOf(id)).toEqual(before);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deletions.some((e) => e.subject === id)).toBe(false);
    expect(revocations.some((e) => e.subject === id)).toBe(false);
  });

  it('When two deletions of the same account race, then exactly one succeeds and one event is published', async () => {
    const { id } = await accountWithData();

    const results = await Promise.allSettled([
      as(principal(id), () => callUnary(client, 'DeleteAccount', {})),
      as(principal(id), () => callUnary(client, 'DeleteAccount', {})),
    ]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect((rejected?.reason as AppError).code).toBe('NOT_FOUND');
    await waitFor(() => deletions.some((e) => e.subject === id), {
      timeoutMs: 10_000,
      description: 'user.deleted',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deletions.filter((e) => e.subject === id)).toHaveLength(1);
  });
});
