import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createEvent, RabbitMqEventBus } from '@te/events';
import { captureLogger, createMetrics } from '@te/platform';
import {
  createServiceTestEnv,
  freePort,
  spawnService,
  waitFor,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { JWT_AUDIENCE, JWT_ISSUER, USER_SERVICE_ENTRY } from './support/user-service.process.js';

// End to end over real HTTP, gRPC, PostgreSQL and RabbitMQ: ai.inference.completed events published on
// the run's exchange (as ai-gateway-service will) → the built user-service process aggregates them →
// the gateway serves GET /api/v1/users/me/usage and the admin report. user-service runs with an
// ADMIN_EMAILS entry, so the admin is made the way operators are.
const USER_SERVICE_SCHEMA = path.resolve(__dirname, '../../user-service/prisma/schema.prisma');
// One operator account per test that needs one (ADMIN_EMAILS is a list).
const ADMINS = [newCredentials('admin'), newCredentials('admin')];

let env: ServiceTestEnv;
let userService: SpawnedService;
let gateway: RunningGateway;
let publisher: RabbitMqEventBus;

beforeAll(async () => {
  env = await createServiceTestEnv({
    schemaPath: USER_SERVICE_SCHEMA,
    databaseName: 'te_user',
    queues: ['user-service.usage'],
  });
  const grpcPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === grpcPort) httpPort = await freePort();
  userService = await spawnService({
    name: 'user-service',
    entry: USER_SERVICE_ENTRY,
    readyPort: httpPort,
    readyTimeoutMs: 60_000,
    env: {
      ...env.env,
      HTTP_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'info',
      JWT_ISSUER,
      JWT_AUDIENCE,
      DATABASE_POOL_SIZE: '4',
      ADMIN_EMAILS: ADMINS.map((admin) => admin.email).join(','),
    },
  });
  gateway = await startGateway(`127.0.0.1:${grpcPort}`);
  publisher = new RabbitMqEventBus({
    url: env.amqp.url,
    exchange: env.amqp.exchange,
    queuePrefix: env.amqp.queuePrefix,
    logger: captureLogger('test-publisher', 'warn').logger,
    metrics: createMetrics({ service: 'test-publisher', defaultMetrics: false }),
    connectionName: 'test-ai-gateway',
  });
  await publisher.connect();
}, 180_000);

afterAll(async () => {
  await publisher?.close();
  await gateway?.stop();
  await userService?.stop();
  await env?.cleanup();
}, 60_000);

interface UsageJson {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
}
type MyUsage = {
  daily: (UsageJson & { day: string; model: string })[];
  totals: (UsageJson & { model: string })[];
};
type Report = { rows: (UsageJson & { user_id: string; model: string })[] };

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

async function signUp(credentials = newCredentials()): Promise<Session> {
  const { status, body } = await register(gateway.baseUrl, credentials);
  expect(status).toBe(201);
  return body.data!;
}

const myUsage = (headers: Record<string, string>, query = '') =>
  call<MyUsage>(gateway.baseUrl, 'GET', `/api/v1/users/me/usage${query}`, { headers });
const report = (headers: Record<string, string>, query = '') =>
  call<Report>(gateway.baseUrl, 'GET', `/api/v1/admin/usage${query}`, { headers });

/** Publishes inferences of a user and waits until user-service has handled every delivery. */
async function infer(
  userId: string,
  inferences: { model?: string; cost_usd: string; completed_at: string; input_tokens?: number }[],
  options: { duplicateFirst?: boolean } = {},
) {
  const events = inferences.map((inference) =>
    createEvent({
      type: 'ai.inference.completed',
      source: 'ai-gateway-service',
      subject: userId,
      data: { user_id: userId, model: 'openai/gpt-4o-mini', input_tokens: 7, output_tokens: 3, ...inference },
    }),
  );
  for (const event of events) await publisher.publish(event);
  if (options.duplicateFirst) await publisher.publish(events[0]);
  const handled = (id: string) =>
    userService.logLines().filter((line) => line['message'] === 'event processed' && line['event_id'] === id)
      .length;
  await waitFor(() => events.every((e, i) => handled(e.id) === (options.duplicateFirst && i === 0 ? 2 : 1)), {
    timeoutMs: 20_000,
    description: 'user-service to handle every delivery',
  });
}

describe('GET /api/v1/users/me/usage', () => {
  test('When inferences were published, then the caller sees them per UTC day and model, with exact totals, each event once', async () => {
    const session = await signUp();
    await infer(
      session.user.id,
      [
        { cost_usd: '0.000001', completed_at: '2026-05-01T23:59:59.000Z' },
        { cost_usd: '0.000001', completed_at: '2026-05-01T08:00:00+02:00' },
        { cost_usd: '0.000001', completed_at: '2026-05-02T00:00:00.000Z' },
        {
          cost_usd: '0.25',
          completed_at: '2026-05-02T10:00:00Z',
          model: 'anthropic/claude-haiku',
          input_tokens: 100,
        },
      ],
      { duplicateFirst: true },
    );

    const { status, body } = await myUsage(bearer(session.access_token), '?from=2026-05-01&to=2026-05-02');

    expect(status).toBe(200);
    expect(body.data).toEqual({
      daily: [
        {
          day: '2026-05-01',
          model: 'openai/gpt-4o-mini',
          requests: 2,
          input_tokens: 14,
          output_tokens: 6,
          cost_usd: '0.000002',
        },
        {
          day: '2026-05-02',
          model: 'anthropic/claude-haiku',
          requests: 1,
          input_tokens: 100,
          output_tokens: 3,
          cost_usd: '0.250000',
        },
        {
          day: '2026-05-02',
          model: 'openai/gpt-4o-mini',
          requests: 1,
          input_tokens: 7,
          output_tokens: 3,
          cost_usd: '0.000001',
        },
      ],
      totals: [
        {
          model: 'anthropic/claude-haiku',
          requests: 1,
          input_tokens: 100,
          output_tokens: 3,
          cost_usd: '0.250000',
        },
        {
          model: 'openai/gpt-4o-mini',
          requests: 3,
          input_tokens: 21,
          output_tokens: 9,
          cost_usd: '0.000003',
        },
      ],
    });
  });

  test("When two users have usage, then each sees only their own and never the other's", async () => {
    const [alice, bob] = [await signUp(), await signUp()];
    await infer(alice.user.id, [{ cost_usd: '5', completed_at: '2026-06-10T12:00:00Z' }]);
    await infer(bob.user.id, [{ cost_usd: '7', completed_at: '2026-06-10T12:00:00Z' }]);

    const forAlice = await myUsage(bearer(alice.access_token), '?from=2026-06-01&to=2026-06-30');
    const forBob = await myUsage(bearer(bob.access_token), '?from=2026-06-01&to=2026-06-30');

    expect(forAlice.body.data!.totals).toEqual([
      expect.objectContaining({ requests: 1, cost_usd: '5.000000' }),
    ]);
    expect(forBob.body.data!.totals).toEqual([
      expect.objectContaining({ requests: 1, cost_usd: '7.000000' }),
    ]);
    // There is no way to name another user: a user_id parameter is refused, not honoured.
    const smuggled = await myUsage(bearer(alice.access_token), `?from=2026-06-01&user_id=${bob.user.id}`);
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.error?.fields).toEqual([{ field: 'user_id', message: 'is not allowed' }]);
  });

  test('When dates are malformed, reversed, too far apart or repeated, then 400 names the parameter', async () => {
    const session = await signUp();
    const headers = bearer(session.access_token);
    const fields = async (query: string) => {
      const { status, body } = await myUsage(headers, query);
      expect(status).toBe(400);
      expect(body.error?.code).toBe('VALIDATION_FAILED');
      return body.error?.fields?.map((f) => f.field);
    };

    expect(await fields('?from=yesterday&to=2026-13-01')).toEqual(['from']); // gateway: shape
    expect(await fields('?from=2026-02-30')).toEqual(['from']); // user-service: not a calendar day
    expect(await fields('?to=2026-1-1')).toEqual(['to']);
    expect(await fields('?from=2026-03-02&to=2026-03-01')).toEqual(['from']);
    expect(await fields('?from=2024-01-01&to=2025-12-31')).toEqual(['from']);
    expect(await fields('?from=2026-03-01&from=2026-03-02')).toEqual(['from']);
  });

  test('When no range is given, then the last 30 days are served; without a credential 401; an API key needs usage:read', async () => {
    const session = await signUp();
    await infer(session.user.id, [{ cost_usd: '0.5', completed_at: new Date().toISOString() }]);

    const { status, body } = await myUsage(bearer(session.access_token));
    expect(status).toBe(200);
    expect(body.data!.daily).toEqual([
      expect.objectContaining({ day: new Date().toISOString().slice(0, 10), cost_usd: '0.500000' }),
    ]);

    expect((await myUsage({})).status).toBe(401);
    const key = async (scopes: string[]) =>
      (
        await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
          json: { name: 'usage', scopes },
          headers: bearer(session.access_token),
        })
      ).body.data!.secret;
    expect((await myUsage({ 'x-api-key': await key(['usage:read']) })).status).toBe(200);
    expect((await myUsage({ 'x-api-key': await key(['profile:read']) })).status).toBe(403);
  });
});

describe('GET /api/v1/admin/usage', () => {
  test('When an admin (from ADMIN_EMAILS) asks for the report, then rows per user and model come largest cost first', async () => {
    const admin = await signUp(ADMINS[0]);
    expect(admin.user.roles).toEqual(['user', 'admin']);
    const [light, heavy] = [await signUp(), await signUp()];
    await infer(light.user.id, [{ cost_usd: '0.000004', completed_at: '2032-02-01T10:00:00Z' }]);
    await infer(heavy.user.id, [
      { cost_usd: '12.5', completed_at: '2032-02-03T10:00:00Z', model: 'm/big' },
      { cost_usd: '0.75', completed_at: '2032-02-04T10:00:00Z' },
    ]);

    const { status, body } = await report(bearer(admin.access_token), '?from=2032-02-01&to=2032-02-29');

    expect(status).toBe(200);
    expect(body.data!.rows).toEqual([
      {
        user_id: heavy.user.id,
        model: 'm/big',
        requests: 1,
        input_tokens: 7,
        output_tokens: 3,
        cost_usd: '12.500000',
      },
      {
        user_id: heavy.user.id,
        model: 'openai/gpt-4o-mini',
        requests: 1,
        input_tokens: 7,
        output_tokens: 3,
        cost_usd: '0.750000',
      },
      {
        user_id: light.user.id,
        model: 'openai/gpt-4o-mini',
        requests: 1,
        input_tokens: 7,
        output_tokens: 3,
        cost_usd: '0.000004',
      },
    ]);
    const limited = await report(bearer(admin.access_token), '?from=2032-02-01&to=2032-02-29&limit=1');
    expect(limited.body.data!.rows.map((row) => row.cost_usd)).toEqual(['12.500000']);
  });

  test('When a normal user asks for the report, then 403 insufficient_scope and no data', async () => {
    const user = await signUp();

    const { status, headers, body } = await report(
      bearer(user.access_token),
      '?from=2032-02-01&to=2032-02-29',
    );

    expect(status).toBe(403);
    expect(headers.get('www-authenticate')).toContain('scope="admin:usage:read"');
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'FORBIDDEN' } });
  });

  test('When the report parameters are invalid, then 400 names each', async () => {
    const admin = await signUp(ADMINS[1]);
    const headers = bearer(admin.access_token);
    const fields = async (query: string) => {
      const { status, body } = await report(headers, query);
      expect(status).toBe(400);
      return body.error?.fields?.map((f) => f.field);
    };

    expect(await fields('?limit=0')).toEqual(['limit']);
    expect(await fields('?limit=5000')).toEqual(['limit']);
    expect(await fields('?limit=ten&from=2032-02-30')).toEqual(['limit']);
    expect(await fields('?from=2032-02-30&limit=1001')).toEqual(['from', 'limit']);
    expect(await fields(`?user=${randomUUID()}`)).toEqual(['user']);
  });
});
