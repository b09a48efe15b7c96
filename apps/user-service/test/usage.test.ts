import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { connect, type ChannelModel, type GetMessage } from 'amqplib';
import pg from 'pg';
import { createEvent, RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import {
  AppError,
  captureLogger,
  createMetrics,
  runWithRequestContext,
  scopesForRoles,
  SCOPES,
  type Principal,
} from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createUserServiceApp } from '../src/app.js';
import { loadUserServiceConfig } from '../src/config.js';
import type { InferenceCompletedData } from '../src/domain/usage.js';
import { USAGE_QUEUE } from '../src/events/inference-completed.consumer.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');

// user-service in-process against the machine's PostgreSQL, Redis and RabbitMQ (this run's database,
// exchange and prefixes). Events are published for real on the run's exchange, as ai-gateway-service would.
describe('usage analytics (ai.inference.completed → daily aggregates → UsageService)', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createUserServiceApp>;
  let usage: InstanceType<ReturnType<typeof loadProtos>['te']['user']['v1']['UsageService']>;
  let db: pg.Pool;
  let publisher: RabbitMqEventBus;
  let broker: ChannelModel;
  const captured = captureLogger('user-service', 'info');

  beforeAll(async () => {
    env = await createServiceTestEnv({ schemaPath: SCHEMA, databaseName: 'te_user', queues: [USAGE_QUEUE] });
    app = createUserServiceApp(loadUserServiceConfig(env.env), { logger: captured.logger });
    const { grpcPort } = await app.start();
    usage = createGrpcClient(loadProtos().te.user.v1.UsageService, `127.0.0.1:${grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    });
    db = openTestPool(env.env.DATABASE_URL, 2);
    publisher = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      queuePrefix: env.amqp.queuePrefix,
      logger: captured.logger,
      metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
      connectionName: 'test-ai-gateway',
    });
    await publisher.connect();
    broker = await connect(env.amqp.url, { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    usage?.close();
    await broker?.close();
    await publisher?.close();
    await app?.stop();
    await db?.end();
    await env?.cleanup();
  }, 60_000);

  async function newUser(): Promise<string> {
    const id = randomUUID();
    await db.query('INSERT INTO users (id, email, name, updated_at) VALUES ($1, $2, $3, now())', [
      id,
      `usage.${id}@example.com`,
      'Usage Tester',
    ]);
    return id;
  }

  const inference = (data: Partial<InferenceCompletedData> & { user_id: string }, subject = data.user_id) =>
    createEvent<unknown>({
      type: 'ai.inference.completed',
      source: 'ai-gateway-service',
      subject,
      data: {
        model: 'openai/gpt-4o-mini',
        input_tokens: 10,
        output_tokens: 5,
        cost_usd: '0.000001',
        completed_at: '2026-03-01T12:00:00Z',
        ...data,
      },
    });

  /** Lines the consumer logs once per successful handler run (duplicates included). */
  const processedRuns = (eventId: string) =>
    captured.lines().filter((line) => line['message'] === 'event processed' && line['event_id'] === eventId)
      .length;

  async function usageRows(userId: string) {
    const { rows } = await db.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, model, requests, input_tokens::text, output_tokens::text,
              cost_micro_usd::text FROM usage_daily WHERE user_id = $1 ORDER BY day, model`,
      [userId],
    );
    return rows as Record<string, unknown>[];
  }

  const as = <T>(principal: Principal, fn: () => Promise<T>) =>
    runWithRequestContext({ requestId: randomUUID(), principal }, fn);
  const userPrincipal = (userId: string): Principal => ({
    userId,
    roles: ['user'],
    scopes: scopesForRoles(['user']),
    authMethod: 'jwt',
  });
  const adminPrincipal = (userId: string): Principal => ({
    userId,
    roles: ['user', 'admin'],
    scopes: scopesForRoles(['user', 'admin']),
    authMethod: 'jwt',
  });
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as AppError;
    }
    throw new Error('expected the call to fail');
  };

  it('When inference events arrive (one twice, two models, both sides of UTC midnight), then each counts once with exact sums', async () => {
    const user = await newUser();
    const events = [
      inference({
        user_id: user,
        input_tokens: 100,
        output_tokens: 10,
        completed_at: '2026-03-01T23:59:59.999Z',
      }),
      inference({
        user_id: user,
        input_tokens: 1,
        output_tokens: 2,
        completed_at: '2026-03-02T00:00:00.000Z',
      }),
      // 07:00 UTC on 1 March, whatever the producer's offset.
      inference({
        user_id: user,
        input_tokens: 3,
        output_tokens: 4,
        completed_at: '2026-03-01T12:00:00+05:00',
      }),
      inference({
        user_id: user,
        model: 'anthropic/claude-haiku',
        cost_usd: '0.1',
        completed_at: '2026-03-01T10:00:00Z',
      }),
      inference({
        user_id: user,
        model: 'anthropic/claude-haiku',
        cost_usd: '0.2',
        completed_at: '2026-03-01T11:00:00Z',
      }),
    ];
    for (const event of events) await publisher.publish(event);
    await publisher.publish(events[0]); // at-least-once delivery: the same event again

    await waitFor(() => processedRuns(events[0].id) === 2 && events.every((e) => processedRuns(e.id) >= 1), {
      timeoutMs: 20_000,
      description: 'every delivery to be handled',
    });
    expect(await usageRows(user)).toEqual([
      {
        day: '2026-03-01',
        model: 'anthropic/claude-haiku',
        requests: 2,
        input_tokens: '20',
        output_tokens: '10',
        cost_micro_usd: '300000',
      },
      {
        day: '2026-03-01',
        model: 'openai/gpt-4o-mini',
        requests: 2,
        input_tokens: '103',
        output_tokens: '14',
        cost_micro_usd: '2',
      },
      {
        day: '2026-03-02',
        model: 'openai/gpt-4o-mini',
        requests: 1,
        input_tokens: '1',
        output_tokens: '2',
        cost_micro_usd: '1',
      },
    ]);

    const mine = await as(userPrincipal(user), () =>
      callUnary(usage, 'GetMyUsage', { from: '2026-03-01', to: '2026-03-02' }),
    );
    expect(mine.daily).toEqual([
      row('2026-03-01', 'anthropic/claude-haiku', 2, 20, 10, '0.300000'),
      row('2026-03-01', 'openai/gpt-4o-mini', 2, 103, 14, '0.000002'),
      row('2026-03-02', 'openai/gpt-4o-mini', 1, 1, 2, '0.000001'),
    ]);
    // 0.1 + 0.2 is exactly 0.3, and three millionths are exactly 0.000003: no floating point anywhere.
    expect(mine.totals).toEqual([
      row('', 'anthropic/claude-haiku', 2, 20, 10, '0.300000'),
      row('', 'openai/gpt-4o-mini', 3, 104, 16, '0.000003'),
    ]);
  });

  it('When the range excludes a day, then neither its rows nor its totals are returned', async () => {
    const user = await newUser();
    const first = inference({ user_id: user, completed_at: '2026-04-10T08:00:00Z', cost_usd: '1.5' });
    const second = inference({ user_id: user, completed_at: '2026-04-11T08:00:00Z', cost_usd: '2.25' });
    await publisher.publish(first);
    await publisher.publish(second);
    await waitFor(() => processedRuns(first.id) === 1 && processedRuns(second.id) === 1, {
      timeoutMs: 20_000,
      description: 'both events to be handled',
    });

    const mine = await as(userPrincipal(user), () =>
      callUnary(usage, 'GetMyUsage', { from: '2026-04-11', to: '2026-04-30' }),
    );
    expect(mine.daily).toEqual([row('2026-04-11', 'openai/gpt-4o-mini', 1, 10, 5, '2.250000')]);
    expect(mine.totals).toEqual([row('', 'openai/gpt-4o-mini', 1, 10, 5, '2.250000')]);
  });

  it('When an event names an account that does not exist, then it is acknowledged, logged and counts nowhere', async () => {
    const ghost = randomUUID();
    const event = inference({ user_id: ghost });
    await publisher.publish(event);

    await waitFor(() => processedRuns(event.id) === 1, {
      timeoutMs: 20_000,
      description: 'the event to be handled',
    });
    expect(await usageRows(ghost)).toEqual([]);
    expect(captured.lines()).toContainEqual(
      expect.objectContaining({ message: 'usage event for an unknown user ignored', user_id: ghost }),
    );
    const { rows } = await db.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [
      USAGE_QUEUE,
      event.id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('When an event carries invalid data, then it is never counted and ends in the dead-letter queue after the bounded retries', async () => {
    const user = await newUser();
    const bad = inference({ user_id: user, cost_usd: '-0.5', input_tokens: 1.5 } as never);
    await publisher.publish(bad);

    const channel = await broker.createChannel();
    try {
      const dlq = `${env.amqp.queuePrefix}${USAGE_QUEUE}.dlq`;
      // Retries back off 1 s, 5 s, 30 s (the bus's defaults), then the message is dead-lettered.
      const dead: GetMessage = await waitFor(
        async () => (await channel.get(dlq, { noAck: true })) || undefined,
        { timeoutMs: 75_000, intervalMs: 500, description: 'the message in the DLQ' },
      );
      const envelope = JSON.parse(dead.content.toString()) as EventEnvelope;
      expect(envelope.id).toBe(bad.id);
      expect(dead.properties.headers).toMatchObject({
        'x-dead-letter-reason': 'handler_failed',
        'x-error-code': 'VALIDATION_FAILED',
        'x-attempts': 4,
      });
    } finally {
      await channel.close();
    }
    expect(await usageRows(user)).toEqual([]);
    const { rows } = await db.query('SELECT 1 FROM processed_events WHERE event_id = $1', [bad.id]);
    expect(rows).toHaveLength(0);
  }, 100_000);

  it('When a user asks for usage, then only their own rows come back, whoever else used the models', async () => {
    const [mine, theirs] = [await newUser(), await newUser()];
    const mineEvent = inference({ user_id: mine, completed_at: '2027-01-05T10:00:00Z', cost_usd: '0.5' });
    const theirEvent = inference({ user_id: theirs, completed_at: '2027-01-05T10:00:00Z', cost_usd: '9' });
    await publisher.publish(mineEvent);
    await publisher.publish(theirEvent);
    await waitFor(() => processedRuns(mineEvent.id) === 1 && processedRuns(theirEvent.id) === 1, {
      timeoutMs: 20_000,
      description: 'both events to be handled',
    });

    const response = await as(userPrincipal(mine), () =>
      callUnary(usage, 'GetMyUsage', { from: '2027-01-01', to: '2027-01-31' }),
    );
    expect(response.daily).toEqual([row('2027-01-05', 'openai/gpt-4o-mini', 1, 10, 5, '0.500000')]);
    expect(response.totals).toEqual([row('', 'openai/gpt-4o-mini', 1, 10, 5, '0.500000')]);
  });

  it('When usage is asked for without a caller or with bad dates, then the call is refused naming the parameter', async () => {
    const user = await newUser();
    expect((await failure(callUnary(usage, 'GetMyUsage', {}))).code).toBe('UNAUTHENTICATED');

    const bad = await failure(
      as(userPrincipal(user), () => callUnary(usage, 'GetMyUsage', { from: '2026-02-30', to: 'yesterday' })),
    );
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.fields?.map((f) => f.field)).toEqual(['from', 'to']);

    const reversed = await failure(
      as(userPrincipal(user), () => callUnary(usage, 'GetMyUsage', { from: '2026-03-02', to: '2026-03-01' })),
    );
    expect(reversed.fields).toEqual([{ field: 'from', message: 'must not be after to' }]);

    const tooLong = await failure(
      as(userPrincipal(user), () => callUnary(usage, 'GetMyUsage', { from: '2025-01-01', to: '2026-01-02' })),
    );
    expect(tooLong.fields).toEqual([{ field: 'from', message: 'must be at most 366 days before to' }]);
  });

  it('When nothing is given, then the last 30 UTC days are reported', async () => {
    const user = await newUser();
    const today = new Date().toISOString().slice(0, 10);
    const old = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    const recent = inference({ user_id: user, completed_at: new Date().toISOString() });
    const outside = inference({ user_id: user, completed_at: `${old}T12:00:00Z` });
    await publisher.publish(recent);
    await publisher.publish(outside);
    await waitFor(() => processedRuns(recent.id) === 1 && processedRuns(outside.id) === 1, {
      timeoutMs: 20_000,
      description: 'both events to be handled',
    });

    const response = await as(userPrincipal(user), () => callUnary(usage, 'GetMyUsage', {}));
    expect(response.daily.map((r) => r.day)).toEqual([today]);
  });

  it('When an admin asks for the report, then rows per user and model come largest cost first, limited; others are refused', async () => {
    const [small, large, admin] = [await newUser(), await newUser(), await newUser()];
    const events = [
      inference({ user_id: small, completed_at: '2031-06-01T10:00:00Z', cost_usd: '0.000001' }),
      inference({ user_id: small, completed_at: '2031-06-02T10:00:00Z', cost_usd: '0.000002' }),
      inference({ user_id: large, completed_at: '2031-06-01T10:00:00Z', cost_usd: '3', model: 'm/large' }),
      inference({ user_id: large, completed_at: '2031-06-01T11:00:00Z', cost_usd: '0.5' }),
      inference({ user_id: large, completed_at: '2031-07-01T11:00:00Z', cost_usd: '100' }), // outside the range
    ];
    for (const event of events) await publisher.publish(event);
    await waitFor(() => events.every((e) => processedRuns(e.id) === 1), {
      timeoutMs: 20_000,
      description: 'every event to be handled',
    });

    const report = await as(adminPrincipal(admin), () =>
      callUnary(usage, 'GetUsageReport', { from: '2031-06-01', to: '2031-06-30', limit: 0 }),
    );
    expect(report.rows).toEqual([
      { ...row('', 'm/large', 1, 10, 5, '3.000000'), userId: large },
      { ...row('', 'openai/gpt-4o-mini', 1, 10, 5, '0.500000'), userId: large },
      { ...row('', 'openai/gpt-4o-mini', 2, 20, 10, '0.000003'), userId: small },
    ]);
    const top = await as(adminPrincipal(admin), () =>
      callUnary(usage, 'GetUsageReport', { from: '2031-06-01', to: '2031-06-30', limit: 1 }),
    );
    expect(top.rows.map((r) => [r.userId, r.model])).toEqual([[large, 'm/large']]);

    const notAdmin = await failure(
      as(userPrincipal(small), () =>
        callUnary(usage, 'GetUsageReport', { from: '2031-06-01', to: '2031-06-30' }),
      ),
    );
    expect(notAdmin.code).toBe('FORBIDDEN');
    // An admin's credential without the report scope (an API key given a subset) is refused too.
    const withoutScope = await failure(
      as({ ...adminPrincipal(admin), scopes: [SCOPES.usageRead], authMethod: 'api_key' }, () =>
        callUnary(usage, 'GetUsageReport', { from: '2031-06-01', to: '2031-06-30' }),
      ),
    );
    expect(withoutScope.code).toBe('FORBIDDEN');
    expect((await failure(callUnary(usage, 'GetUsageReport', {}))).code).toBe('UNAUTHENTICATED');

    const invalid = await failure(
      as(adminPrincipal(admin), () =>
        callUnary(usage, 'GetUsageReport', { from: '2031-13-01', to: '2031-06-30', limit: 1001 }),
      ),
    );
    expect(invalid.code).toBe('VALIDATION_FAILED');
    expect(invalid.fields?.map((f) => f.field)).toEqual(['from', 'limit']);
  });
});

function row(day: string, model: string, requests: number, input: number, output: number, cost: string) {
  return {
    day,
    model,
    userId: '',
    requests: String(requests),
    inputTokens: String(input),
    outputTokens: String(output),
    costUsd: cost,
  };
}
