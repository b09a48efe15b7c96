import path from 'node:path';
import { createPgAdapter } from '@te/database';
import { createEvent, enqueueEvent, idempotent, RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, grpcHealthCheck, loadProtos } from '@te/grpc';
import { AppError, captureLogger, createMetrics, loadConfig } from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv } from '@te/testing';
import { serviceConfigSchema, ServiceHost } from '../src/index.js';
import { PrismaClient } from './fixture/generated/prisma/client.js';

const SCHEMA = path.join(__dirname, 'fixture/schema.prisma');
const QUEUE = 'svchost-test.things';
// Lowered from grpc-js's 4 MiB so the test proves grpcServerOptions reach the server.
const MAX_REQUEST_BYTES = 64 * 1024;

describe('ServiceHost (real PostgreSQL, Redis and RabbitMQ)', () => {
  const captured = captureLogger('svchost-test');
  const received: EventEnvelope[] = [];
  let slowHandlerMs = 0;
  let ownResourceClosed = false;
  let ownLoop: 'idle' | 'running' | 'stopped' = 'idle';
  let onHandlerStarted: (() => void) | undefined;
  let env: ServiceTestEnv;
  let host: ServiceHost;
  let db: PrismaClient;
  let ports: { grpcPort: number; opsPort: number };

  beforeAll(async () => {
    env = await createServiceTestEnv({ schemaPath: SCHEMA, databaseName: 'te_svchost', queues: [QUEUE] });
    const schema = serviceConfigSchema({
      name: 'svchost-test',
      grpcPort: 0,
      httpPort: 0,
      database: 'unused',
    });
    const config = loadConfig(schema, { ...env.env, LOG_LEVEL: 'debug' });
    const { adapter, pool } = createPgAdapter({ url: config.DATABASE_URL, applicationName: 'svchost-test' });
    db = new PrismaClient({ adapter });
    host = new ServiceHost({
      config,
      database: { db, pool },
      logger: captured.logger,
      grpcServerOptions: { 'grpc.max_receive_message_length': MAX_REQUEST_BYTES },
    });
    const notUsed = async (): Promise<never> => {
      throw new AppError('METHOD_NOT_ALLOWED', 'Not served by this test');
    };
    host.grpc.addService(loadProtos().te.user.v1.UserService.service, {
      GetUser: async (request) => ({ user: { id: request.id } }),
      Register: notUsed,
      Login: notUsed,
      GetJwks: notUsed,
      GetMe: notUsed,
      UpdateProfile: notUsed,
      ChangePassword: notUsed,
      DeleteAccount: notUsed,
      ListSecurityEvents: notUsed,
    });
    host.consume({
      queue: QUEUE,
      bindings: ['thing.happened'],
      handler: idempotent(db, 'svchost-test', async (_tx, event) => {
        onHandlerStarted?.();
        if (slowHandlerMs) await new Promise((resolve) => setTimeout(resolve, slowHandlerMs));
        received.push(event);
      }),
    });
    host.onStop('own resource', () => {
      ownResourceClosed = true;
    });
    host.runInBackground('own loop', {
      start: () => (ownLoop = 'running'),
      stop: () => {
        ownLoop = 'stopped';
      },
    });
    ports = await host.start();
  });

  afterAll(async () => {
    await env?.cleanup();
  });

  it('When started, then readiness reports its PostgreSQL, Redis and RabbitMQ and gRPC health is SERVING', async () => {
    const response = await fetch(`http://127.0.0.1:${ports.opsPort}/readyz`);
    const report = (await response.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    expect(response.status).toBe(200);
    expect(Object.keys(report.checks).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
    const health = grpcHealthCheck(`127.0.0.1:${ports.grpcPort}`);
    await expect(health()).resolves.toBeUndefined();
    health.close();
  });

  it('When an event is written to the outbox in a transaction, then the relay publishes it and the consumer applies it once', async () => {
    const event = createEvent({ type: 'thing.happened', source: 'svchost-test', data: { n: 1 } });
    await db.$transaction(async (tx) => enqueueEvent(tx, event));
    host.relay.notify();

    await waitFor(() => received.some((e) => e.id === event.id), {
      timeoutMs: 10_000,
      description: 'the event',
    });
    // Delivered means confirmed by the broker; the relay marks the row just after (poll for it).
    await waitFor(
      async () => (await db.outboxEvent.findUnique({ where: { id: event.id } }))?.publishedAt instanceof Date,
      { timeoutMs: 10_000, description: 'the outbox row to be marked published' },
    );
    expect(await db.processedEvent.count({ where: { eventId: event.id } })).toBe(1);
  });

  it('When the maintenance job runs, then bookkeeping older than the retention is purged and recent rows stay', async () => {
    const old = new Date(Date.now() - 8 * 24 * 3600_000);
    const oldEvent = createEvent({ type: 'thing.happened', source: 'svchost-test', data: {} });
    const recentEvent = createEvent({ type: 'thing.happened', source: 'svchost-test', data: {} });
    await db.outboxEvent.create({
      data: { id: oldEvent.id, type: oldEvent.type, envelope: {}, publishedAt: old, createdAt: old },
    });
    await db.outboxEvent.create({
      data: { id: recentEvent.id, type: recentEvent.type, envelope: {}, publishedAt: new Date() },
    });
    await db.processedEvent.create({
      data: { consumer: 'svchost-test', eventId: oldEvent.id, processedAt: old },
    });

    // The host's own first run (at a random moment within 5 s of start) may already have taken the
    // lock for the hour, before these rows existed: free it so this tick runs the job on them.
    await host.redis.del('scheduler:svchost-test:event-bookkeeping-purge');
    expect(await host.scheduler.tick('event-bookkeeping-purge')).toBe(true);

    expect(await db.outboxEvent.findUnique({ where: { id: oldEvent.id } })).toBeNull();
    expect(await db.outboxEvent.findUnique({ where: { id: recentEvent.id } })).not.toBeNull();
    expect(await db.processedEvent.count({ where: { eventId: oldEvent.id } })).toBe(0);
    expect(
      captured.lines().some((l) => l.message === 'event bookkeeping purged' && Number(l.outbox_rows) >= 1),
    ).toBe(true);
  });

  it('When grpcServerOptions lower the receive limit, then a larger request is PAYLOAD_TOO_LARGE and a smaller one passes', async () => {
    const client = createGrpcClient(loadProtos().te.user.v1.UserService, `127.0.0.1:${ports.grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'svchost-client', defaultMetrics: false }),
    });
    try {
      const small = await callUnary(client, 'GetUser', { id: 'u'.repeat(1_000) });
      const large = await callUnary(client, 'GetUser', { id: 'u'.repeat(MAX_REQUEST_BYTES + 1) }).catch(
        (e: unknown) => e,
      );

      expect(small.user?.id).toHaveLength(1_000);
      expect(large).toBeInstanceOf(AppError);
      expect(large).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    } finally {
      client.close();
    }
  });

  it("When stopped with a handler in flight, then the handler finishes first and everything closes in order, the service's own resources after the bus", async () => {
    slowHandlerMs = 500;
    const publisher = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      logger: captured.logger,
      metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
      connectionName: 'svchost-publisher',
    });
    await publisher.connect();
    const event = createEvent({ type: 'thing.happened', source: 'svchost-test', data: { slow: true } });
    const started = new Promise<void>((resolve) => (onHandlerStarted = resolve));
    await publisher.publish(event);
    await publisher.close();
    await started; // the handler is now sleeping: stop() must wait for it

    expect(ownLoop).toBe('running');
    await host.stop();

    expect(received.some((e) => e.id === event.id)).toBe(true);
    expect(ownResourceClosed).toBe(true);
    expect(ownLoop).toBe('stopped');
    const closed = captured
      .lines()
      .filter((l) => l.message === 'closed')
      .map((l) => l.step);
    expect(closed).toEqual([
      'grpc server (drain in-flight calls)',
      'scheduler',
      'outbox relay',
      'event bus (drain in-flight handlers)',
      'own resource',
      'own loop',
      'database',
      'redis',
      'ops server',
    ]);
    await expect(fetch(`http://127.0.0.1:${ports.opsPort}/healthz`)).rejects.toThrow();
  });
});
