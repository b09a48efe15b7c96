import path from 'node:path';
import pg from 'pg';
import { createEvent, RabbitMqEventBus } from '@te/events';
import {
  captureLogger,
  createMetrics,
  runWithRequestContext,
  startTracing,
  withSpan,
  type Tracing,
} from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createIntegrationServiceApp } from '../src/app.js';
import { loadIntegrationServiceConfig } from '../src/config.js';
import { CONSUMER_NAME } from '../src/events/platform-event.consumer.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');

describe('integration-service records platform events (in-process, real PostgreSQL, Redis and RabbitMQ)', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createIntegrationServiceApp>;
  let publisher: RabbitMqEventBus;
  let db: pg.Pool;
  let tracing: Tracing;
  let opsPort = 0;
  const captured = captureLogger('integration-service');

  beforeAll(async () => {
    tracing = startTracing({ service: 'integration-test' });
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_integration',
      queues: ['integration-service.platform-events'],
    });
    app = createIntegrationServiceApp(loadIntegrationServiceConfig(env.env), { logger: captured.logger });
    ({ opsPort } = await app.start());
    publisher = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      logger: captured.logger,
      metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
      connectionName: 'test-publisher',
    });
    await publisher.connect();
    db = openTestPool(env.env.DATABASE_URL, 2);
  });

  afterAll(async () => {
    await publisher?.close();
    await app?.stop();
    await db?.end();
    await env?.cleanup();
    await tracing?.shutdown();
  });

  const userRegistered = (userId: string) =>
    createEvent({
      type: 'user.registered',
      source: 'user-service',
      subject: userId,
      data: {
        user_id: userId,
        email: `${userId}@example.com`,
        name: 'Ada',
        roles: ['user'],
        registered_at: new Date().toISOString(),
      },
    });
  const recorded = async (id: string) =>
    (await db.query('SELECT * FROM platform_events WHERE id = $1', [id])).rows[0];

  it('When user.registered is published, then it is recorded once with its data, request id and trace context', async () => {
    const userId = crypto.randomUUID();
    let traceId = '';
    const event = await runWithRequestContext({ requestId: 'req-e2e-42' }, () =>
      withSpan('register', {}, async (span) => {
        traceId = span.spanContext().traceId;
        return userRegistered(userId);
      }),
    );
    await publisher.publish(event);

    const row = await waitFor(() => recorded(event.id), { timeoutMs: 10_000, description: 'the event row' });
    expect(row).toMatchObject({
      type: 'user.registered',
      source: 'user-service',
      subject: userId,
      request_id: 'req-e2e-42',
    });
    expect(row.data).toEqual(event.data);
    expect(row.occurred_at.toISOString()).toBe(event.time);
    expect(row.traceparent).toContain(traceId);
    const processed = await db.query(
      'SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1 AND event_id = $2',
      [CONSUMER_NAME, event.id],
    );
    expect(processed.rows[0].n).toBe(1);
    const logged = captured
      .lines()
      .find((line) => line.message === 'event processed' && line.event_id === event.id);
    expect(logged).toMatchObject({ request_id: 'req-e2e-42', trace_id: traceId, type: 'user.registered' });
  });

  it('When the same event is delivered three times, then it has exactly one effect', async () => {
    const event = userRegistered(crypto.randomUUID());
    await Promise.all([publisher.publish(event), publisher.publish(event), publisher.publish(event)]);
    await waitFor(() => recorded(event.id), { timeoutMs: 10_000, description: 'the event row' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rows = await db.query('SELECT count(*)::int AS n FROM platform_events WHERE id = $1', [event.id]);
    expect(rows.rows[0].n).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /amqp_message_processing_seconds_count\{queue="[^"]*integration-service\.platform-events",type="user\.registered",outcome="acked"\} [3-9]/,
    );
  });

  it('When the service is ready, then readiness lists its database, Redis and broker', async () => {
    const ready = (await (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).json()) as {
      ready: boolean;
      checks: Record<string, { ok: boolean }>;
    };
    expect(ready.ready).toBe(true);
    expect(Object.keys(ready.checks).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
  });
});
