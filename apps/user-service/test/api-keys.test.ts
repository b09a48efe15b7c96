import { createHash, randomUUID } from 'node:crypto';
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
import { createServiceTestEnv, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createUserServiceApp } from '../src/app.js';
import { loadUserServiceConfig } from '../src/config.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
const CACHE_TTL_SECONDS = 7;
const CLIENT = { ip: '203.0.113.77', userAgent: 'api-keys-test/1.0' };
const KEY_FORMAT = /^tek_[0-9a-hjkmnp-tv-z]{8}_[A-Za-z0-9_-]{43}$/;

type ApiKeyClient = InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['ApiKeyService']>;

describe('ApiKeyService (in-process user-service, real PostgreSQL, Redis and RabbitMQ)', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createUserServiceApp>;
  let client: ApiKeyClient;
  let db: pg.Pool;
  const captured = captureLogger('user-service');

  beforeAll(async () => {
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_user',
      queues: ['user-service.usage'],
    });
    app = createUserServiceApp(
      loadUserServiceConfig({ ...env.env, API_KEY_CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS) }),
      { logger: captured.logger },
    );
    const ports = await app.start();
    client = createGrpcClient(loadProtos().te.user.v1.ApiKeyService, `127.0.0.1:${ports.grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    });
    db = openTestPool(env.env.DATABASE_URL, 2);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await app?.stop();
    await db?.end();
    await env?.cleanup();
  });

  /** An account made directly in the database, so these tests depend on nothing but API keys. */
  async function newUser(roles = ['user']): Promise<Principal> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (id, email, name, roles, updated_at)
       VALUES (gen_random_uuid(), $1, 'Key Owner', $2, now()) RETURNING id`,
      [`keys.${randomUUID()}@example.com`, roles],
    );
    return { userId: rows[0].id, roles, scopes: scopesForRoles(roles), authMethod: 'jwt' };
  }

  /** Calls as the gateway does after authenticating `principal` (principal and client in metadata). */
  function as<T>(principal: Principal | undefined, call: () => Promise<T>): Promise<T> {
    return runWithRequestContext({ requestId: `req-${randomUUID()}`, principal, client: CLIENT }, call);
  }

  const create = (
    principal: Principal | undefined,
    request: { name?: string; scopes?: string[]; expiresAt?: string } = {},
  ) =>
    as(principal, () =>
      callUnary(client, 'CreateApiKey', {
        name: request.name ?? 'CI deploy',
        scopes: request.scopes ?? ['profile:read'],
        expiresAt: request.expiresAt ?? '',
      }),
    );
  const list = (principal: Principal | undefined) =>
    as(principal, () => callUnary(client, 'ListApiKeys', {}));
  const revoke = (principal: Principal | undefined, id: string) =>
    as(principal, () => callUnary(client, 'RevokeApiKey', { id }));
  const authenticate = (secret: string) =>
    as(undefined, () => callUnary(client, 'AuthenticateApiKey', { secret }));

  async function failure(promise: Promise<unknown>): Promise<AppError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error('expected the call to fail');
  }

  const keyRow = async (id: string) =>
    (await db.query('SELECT * FROM api_keys WHERE id = $1', [id])).rows[0] as Record<string, unknown>;
  const auditRows = async (userId: string, type: string) =>
    (
      await db.query('SELECT ip, user_agent, details FROM security_events WHERE user_id = $1 AND type = $2', [
        userId,
        type,
      ])
    ).rows as { ip: string; user_agent: string; details: Record<string, unknown> }[];

  test('When a user creates a key, then the secret is returned once, only its SHA-256 is stored and the creation is audited without it', async () => {
    const owner = await newUser();

    const { apiKey, secret } = await create(owner, {
      name: '  CI deploy ',
      scopes: ['profile:read', 'explain'],
    });

    expect(secret).toMatch(KEY_FORMAT);
    expect(apiKey).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'CI deploy',
      prefix: secret.slice(0, 12),
      scopes: ['explain', 'profile:read'],
      createdAt: expect.any(String),
      expiresAt: '',
      lastUsedAt: '',
    });
    const row = await keyRow(apiKey!.id);
    expect(row['secret_hash']).toBe(createHash('sha256').update(secret).digest('base64url'));
    expect(row['user_id']).toBe(owner.userId);
    expect(JSON.stringify(row)).not.toContain(secret.slice(13));

    const listed = await list(owner);
    expect(listed.apiKeys).toEqual([apiKey]);
    expect(JSON.stringify(listed)).not.toContain(secret.slice(13));

    const audit = await auditRows(owner.userId, 'api_key_created');
    expect(audit).toEqual([
      {
        ip: CLIENT.ip,
        user_agent: CLIENT.userAgent,
        details: {
          api_key_id: apiKey!.id,
          prefix: apiKey!.prefix,
          name: 'CI deploy',
          scopes: ['explain', 'profile:read'],
          expires_at: null,
        },
      },
    ]);
    expect(captured.text()).not.toContain(secret.slice(13));
  });

  test('When the key is presented, then it resolves to its owner, roles, its scopes, its id and the configured cache lifetime', async () => {
    const owner = await newUser();
    const { apiKey, secret } = await create(owner, { scopes: ['explain'] });

    const resolved = await authenticate(secret);

    expect(resolved).toEqual({
      userId: owner.userId,
      roles: ['user'],
      scopes: ['explain'],
      apiKeyId: apiKey!.id,
      cacheTtlSeconds: CACHE_TTL_SECONDS,
    });
    expect((await list(owner)).apiKeys?.[0]?.lastUsedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  test('When a key is used again within a minute, then last_used_at is not rewritten; after a minute it is', async () => {
    const owner = await newUser();
    const { apiKey, secret } = await create(owner);
    const thirtySecondsAgo = new Date(Date.now() - 30_000);
    await db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [apiKey!.id, thirtySecondsAgo]);

    await authenticate(secret);
    await authenticate(secret);

    expect((await keyRow(apiKey!.id))['last_used_at']).toEqual(thirtySecondsAgo);

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [apiKey!.id, twoMinutesAgo]);
    const before = Date.now();
    await authenticate(secret);

    const written = (await keyRow(apiKey!.id))['last_used_at'] as Date;
    expect(written.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  test('When a key expires, then its cache lifetime never reaches past the expiry, and once expired it is refused and no longer listed', async () => {
    const owner = await newUser();
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const { apiKey, secret } = await create(owner, { expiresAt: inAnHour });
    expect(apiKey!.expiresAt).toBe(inAnHour);
    expect((await authenticate(secret)).cacheTtlSeconds).toBe(CACHE_TTL_SECONDS);

    await db.query('UPDATE api_keys SET expires_at = $2 WHERE id = $1', [
      apiKey!.id,
      new Date(Date.now() + 3_000),
    ]);
    const nearExpiry = await authenticate(secret);
    expect(nearExpiry.cacheTtlSeconds).toBeGreaterThanOrEqual(1);
    expect(nearExpiry.cacheTtlSeconds).toBeLessThanOrEqual(3);

    await db.query('UPDATE api_keys SET expires_at = $2 WHERE id = $1', [
      apiKey!.id,
      new Date(Date.now() - 1),
    ]);
    const error = await failure(authenticate(secret));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toBe('Invalid API key');
    expect((await list(owner)).apiKeys).toEqual([]);
  });

  test('When a presented key is unknown, malformed, has a wrong secret or is revoked, then each is the same UNAUTHENTICATED', async () => {
    const owner = await newUser();
    const { apiKey, secret } = await create(owner);
    const revoked = await create(owner, { name: 'to revoke' });
    await revoke(owner, revoked.apiKey!.id);
    const wrongSecret = `${secret.slice(0, 13)}${'A'.repeat(43)}`;

    const presented = [
      wrongSecret,
      `tek_zzzzzzzz_${secret.slice(13)}`,
      secret.slice(0, -1),
      `${secret} `,
      '',
      'not-a-key',
      revoked.secret,
    ];
    for (const value of presented) {
      const error = await failure(authenticate(value));
      expect({ code: error.code, message: error.message }).toEqual({
        code: 'UNAUTHENTICATED',
        message: 'Invalid API key',
      });
    }
    // The failed attempts did not count as uses of the real key.
    expect((await keyRow(apiKey!.id))['last_used_at']).toBeNull();
  });

  test('When scopes are requested, then they must be known, at least one, and held by both the owner and the calling credential', async () => {
    const owner = await newUser();

    const empty = await failure(create(owner, { scopes: [] }));
    expect({ code: empty.code, fields: empty.fields }).toEqual({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'scopes', message: 'must list at least one scope' }],
    });

    const unknown = await failure(create(owner, { scopes: ['explain', 'superuser'] }));
    expect(unknown.fields).toEqual([{ field: 'scopes[1]', message: 'is not a known scope' }]);

    const admin = await failure(create(owner, { scopes: ['admin:usage:read'] }));
    expect({ code: admin.code, fields: admin.fields }).toEqual({
      code: 'FORBIDDEN',
      fields: [{ field: 'scopes[0]', message: 'is not a scope you hold' }],
    });

    // A key that may manage keys cannot mint a broader key than itself.
    const narrow: Principal = {
      ...owner,
      scopes: ['api_keys:write', 'profile:read'],
      authMethod: 'api_key',
      apiKeyId: randomUUID(),
    };
    const broader = await failure(create(narrow, { scopes: ['profile:read', 'explain'] }));
    expect({ code: broader.code, fields: broader.fields }).toEqual({
      code: 'FORBIDDEN',
      fields: [{ field: 'scopes[1]', message: 'is not a scope you hold' }],
    });
    const { apiKey } = await create(narrow, { scopes: ['profile:read'] });
    expect((await auditRows(owner.userId, 'api_key_created'))[0]?.details).toMatchObject({
      api_key_id: apiKey!.id,
      created_with_api_key_id: narrow.apiKeyId,
    });

    const adminOwner = await newUser(['user', 'admin']);
    expect((await create(adminOwner, { scopes: ['admin:usage:read'] })).apiKey?.scopes).toEqual([
      'admin:usage:read',
    ]);
    expect((await db.query('SELECT 1 FROM api_keys WHERE user_id = $1', [owner.userId])).rowCount).toBe(1);
  });

  test('When name and expiry are bad together, then one VALIDATION_FAILED names each field', async () => {
    const owner = await newUser();

    const error = await failure(
      create(owner, { name: 'x'.repeat(101), expiresAt: new Date(Date.now() - 1000).toISOString() }),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([
      { field: 'name', message: 'must be at most 100 characters' },
      { field: 'expires_at', message: 'must be in the future' },
    ]);
    const tooFar = await failure(
      create(owner, { expiresAt: new Date(Date.now() + 366 * 86_400_000).toISOString() }),
    );
    expect(tooFar.fields).toEqual([{ field: 'expires_at', message: 'must be at most 365 days ahead' }]);
  });

  test('When the owner loses a role, then their keys lose the scopes of that role at once', async () => {
    const owner = await newUser(['user', 'admin']);
    const { secret } = await create(owner, { scopes: ['admin:usage:read', 'explain'] });
    expect((await authenticate(secret)).scopes).toEqual(['admin:usage:read', 'explain']);

    await db.query(`UPDATE users SET roles = '{user}' WHERE id = $1`, [owner.userId]);

    expect(await authenticate(secret)).toMatchObject({ roles: ['user'], scopes: ['explain'] });
  });

  test('When a user revokes their key, then it stops authenticating, leaves the listing and the revocation is audited', async () => {
    const owner = await newUser();
    const kept = await create(owner, { name: 'kept' });
    const { apiKey, secret } = await create(owner, { name: 'leaked' });

    await revoke(owner, apiKey!.id);

    expect((await failure(authenticate(secret))).code).toBe('UNAUTHENTICATED');
    expect((await list(owner)).apiKeys?.map((k) => k.name)).toEqual(['kept']);
    expect((await keyRow(apiKey!.id))['revoked_at']).toBeInstanceOf(Date);
    expect(await auditRows(owner.userId, 'api_key_revoked')).toEqual([
      {
        ip: CLIENT.ip,
        user_agent: CLIENT.userAgent,
        details: { api_key_id: apiKey!.id, prefix: apiKey!.prefix, name: 'leaked' },
      },
    ]);
    expect((await authenticate(kept.secret)).apiKeyId).toBe(kept.apiKey!.id);

    const again = await failure(revoke(owner, apiKey!.id));
    expect(again.code).toBe('NOT_FOUND');
    expect(await auditRows(owner.userId, 'api_key_revoked')).toHaveLength(1);
  });

  test("When a user lists or revokes, then only their own keys are seen and another user's key is NOT_FOUND and keeps working", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const first = await create(alice, { name: 'first' });
    const second = await create(alice, { name: 'second' });
    const bobs = await create(bob, { name: 'bob' });

    expect((await list(alice)).apiKeys?.map((k) => k.name)).toEqual(['second', 'first']);
    expect((await list(bob)).apiKeys?.map((k) => k.id)).toEqual([bobs.apiKey!.id]);

    const error = await failure(revoke(alice, bobs.apiKey!.id));
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'NOT_FOUND',
      message: 'API key not found',
    });
    expect((await authenticate(bobs.secret)).userId).toBe(bob.userId);
    expect(await auditRows(alice.userId, 'api_key_revoked')).toEqual([]);
    expect(first.apiKey!.id).not.toBe(second.apiKey!.id);

    const malformed = await failure(revoke(alice, 'not-a-uuid'));
    expect({ code: malformed.code, fields: malformed.fields }).toEqual({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'id', message: 'must be a UUID' }],
    });
  });

  test('When there is no authenticated caller, then create, list and revoke are UNAUTHENTICATED', async () => {
    expect((await failure(create(undefined))).code).toBe('UNAUTHENTICATED');
    expect((await failure(list(undefined))).code).toBe('UNAUTHENTICATED');
    expect((await failure(revoke(undefined, randomUUID()))).code).toBe('UNAUTHENTICATED');
  });

  test('When an account already has 50 active keys, then another is refused until one is revoked', async () => {
    const owner = await newUser();
    await db.query(
      `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes)
       SELECT gen_random_uuid(), $1::uuid, 'bulk ' || n, 'tek_' || substr(md5(random()::text), 1, 8), 'x', '{explain}'
       FROM generate_series(1, 50) AS n`,
      [owner.userId],
    );

    const error = await failure(create(owner));
    expect(error.code).toBe('CONFLICT');

    const [oldest] = (await list(owner)).apiKeys ?? [];
    await revoke(owner, oldest!.id);
    expect((await create(owner)).secret).toMatch(KEY_FORMAT);
  });
});
