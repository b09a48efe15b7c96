import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
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

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
const RETENTION_DAYS = 30;

// user-service in-process against the machine's PostgreSQL, Redis and RabbitMQ (this run's own names).
describe('profile: GetMe, UpdateProfile, and the audit log retention job', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createUserServiceApp>;
  let client: InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['UserService']>;
  let db: pg.Pool;
  const captured = captureLogger('user-service', 'info');

  beforeAll(async () => {
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_user',
      queues: ['user-service.usage'],
    });
    app = createUserServiceApp(
      loadUserServiceConfig({ ...env.env, AUDIT_RETENTION_DAYS: String(RETENTION_DAYS) }),
      { logger: captured.logger },
    );
    const { grpcPort } = await app.start();
    client = createGrpcClient(loadProtos().te.user.v1.UserService, `127.0.0.1:${grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    });
    db = openTestPool(env.env.DATABASE_URL, 2);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await app?.stop();
    await db?.end();
    await env?.cleanup();
  }, 60_000);

  async function newUser(name = 'Ada Lovelace'): Promise<string> {
    const id = randomUUID();
    await db.query('INSERT INTO users (id, email, name, updated_at) VALUES ($1, $2, $3, now())', [
      id,
      `profile.${id}@example.com`,
      name,
    ]);
    return id;
  }

  const as = <T>(userId: string, fn: () => Promise<T>) => {
    const principal: Principal = {
      userId,
      roles: ['user'],
      scopes: scopesForRoles(['user']),
      authMethod: 'jwt',
    };
    return runWithRequestContext({ requestId: randomUUID(), principal }, fn);
  };
  const update = (userId: string, request: { name?: string; locale?: string; preferencesJson?: string }) =>
    as(userId, () => callUnary(client, 'UpdateProfile', request));
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as AppError;
    }
    throw new Error('expected the call to fail');
  };

  it('When a user asks for their own account, then GetMe answers for the principal with locale and preferences defaults', async () => {
    const id = await newUser();
    await newUser('Someone Else');

    const { user } = await as(id, () => callUnary(client, 'GetMe', {}));

    expect(user).toMatchObject({ id, name: 'Ada Lovelace', locale: 'en', preferencesJson: '{}' });
    expect((await failure(callUnary(client, 'GetMe', {}))).code).toBe('UNAUTHENTICATED');
  });

  it('When name, locale and preferences are changed, then they are stored normalised and returned', async () => {
    const id = await newUser();
    const preferences = { theme: 'dark', editor: { font: { size: 14 } }, shortcuts: ['ctrl+k'] };

    const { user } = await update(id, {
      name: '  Ａda Byron ',
      locale: 'pt-br',
      preferencesJson: JSON.stringify(preferences),
    });

    expect(user).toMatchObject({ id, name: 'Ada Byron', locale: 'pt-BR' });
    expect(JSON.parse(user!.preferencesJson)).toEqual(preferences);
    const { rows } = await db.query('SELECT name, locale, preferences FROM users WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ name: 'Ada Byron', locale: 'pt-BR', preferences });
  });

  it('When only one field is sent, then only that field changes; preferences are replaced as a whole', async () => {
    const id = await newUser('Grace Hopper');
    await update(id, { locale: 'fr', preferencesJson: '{"theme":"dark","compact":true}' });

    const { user } = await update(id, { preferencesJson: '{"theme":"light"}' });

    expect(user).toMatchObject({ name: 'Grace Hopper', locale: 'fr' });
    expect(JSON.parse(user!.preferencesJson)).toEqual({ theme: 'light' });
    // An empty update changes nothing and answers the current profile.
    const { user: unchanged } = await update(id, {});
    expect(unchanged).toEqual(user);
  });

  it('When several fields are invalid, then one VALIDATION_FAILED names each and nothing changes', async () => {
    const id = await newUser('Alan Turing');

    const error = await failure(update(id, { name: ' \u0007 ', locale: 'en_US', preferencesJson: '[1,2]' }));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((f) => f.field)).toEqual(['name', 'locale', 'preferences']);
    const { rows } = await db.query('SELECT name, locale, preferences FROM users WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ name: 'Alan Turing', locale: 'en', preferences: {} });
  });

  it('When preferences are not JSON, too large or too deep, then preferences is the field named', async () => {
    const id = await newUser();
    for (const preferencesJson of [
      'not json',
      '',
      'null',
      JSON.stringify({ blob: 'x'.repeat(16 * 1024) }),
      JSON.stringify({ a: { b: { c: { d: { e: 1 } } } } }),
    ]) {
      const error = await failure(update(id, { preferencesJson }));
      expect(error.fields).toEqual([{ field: 'preferences', message: expect.any(String) }]);
    }
    const tooLong = await failure(update(id, { name: 'x'.repeat(101) }));
    expect(tooLong.fields).toEqual([{ field: 'name', message: 'must be at most 100 characters' }]);
  });

  it('When the caller is unauthenticated or their account is gone, then UpdateProfile changes nothing', async () => {
    expect((await failure(callUnary(client, 'UpdateProfile', { name: 'Nobody' }))).code).toBe(
      'UNAUTHENTICATED',
    );
    const ghost = randomUUID();
    expect((await failure(update(ghost, { name: 'Ghost' }))).code).toBe('NOT_FOUND');
    const { rows } = await db.query('SELECT 1 FROM users WHERE id = $1', [ghost]);
    expect(rows).toHaveLength(0);
  });

  it('When the audit purge job runs, then events older than AUDIT_RETENTION_DAYS are removed and recent ones kept', async () => {
    // The scheduler runs the job once soon after start (jittered by up to 5 s), then holds its lock
    // for the interval (1 h). Wait for that run so the rows below meet only the tick of this test.
    await waitFor(() => captured.lines().some((line) => line['message'] === 'security events purged'), {
      timeoutMs: 15_000,
      description: 'the first scheduled run',
    });
    const id = await newUser();
    const insert = async (ageDays: number, userId: string | null) => {
      const { rows } = await db.query(
        `INSERT INTO security_events (id, user_id, type, created_at)
         VALUES ($1, $2, 'sign_in', now() - make_interval(days => $3)) RETURNING id`,
        [randomUUID(), userId, ageDays],
      );
      return rows[0].id as string;
    };
    const expired = await insert(RETENTION_DAYS + 1, id);
    const expiredUnattributed = await insert(RETENTION_DAYS + 400, null);
    const kept = await insert(RETENTION_DAYS - 1, id);
    const fresh = await insert(0, null);

    // Let the interval lapse: drop the lock the first run holds for the rest of its hour.
    await app.redis.del('scheduler:user-service:security-events-purge');
    expect(await app.scheduler.tick('security-events-purge')).toBe(true);

    const { rows } = await db.query('SELECT id FROM security_events WHERE id = ANY($1::uuid[])', [
      [expired, expiredUnattributed, kept, fresh],
    ]);
    expect(rows.map((row) => row.id as string).sort()).toEqual([kept, fresh].sort());
  });
});
