import { captureLogger } from '@te/platform';
import { createEvent, idempotent, type EventEnvelope, type SqlExecutor } from '../src/index.js';
import { BusFixture } from './support/bus-fixture.js';
import { TestDatabase, type PgExecutor } from './support/pg-database.js';
import { sleep, waitFor } from './support/wait.js';

describe('idempotent consumer', () => {
  const fx = new BusFixture();
  let database: TestDatabase;
  let db: PgExecutor;

  beforeAll(async () => {
    await fx.init();
    database = await TestDatabase.create(fx.runId);
    db = database.executor();
    await db.$executeRawUnsafe('CREATE TABLE effects (event_id uuid NOT NULL, consumer text NOT NULL)');
  });
  afterEach(() => db.$executeRawUnsafe('TRUNCATE effects, processed_events'));
  afterAll(async () => {
    await fx.dispose();
    await database.drop();
  });

  // The business effect: one row per application of the event.
  const applyEffect = (consumer: string) => async (tx: SqlExecutor, event: EventEnvelope) => {
    await tx.$executeRawUnsafe(
      'INSERT INTO effects (event_id, consumer) VALUES ($1::uuid, $2)',
      event.id,
      consumer,
    );
  };
  const count = async (sql: string, ...values: unknown[]) =>
    Number((await db.$queryRawUnsafe<{ n: string }[]>(sql, ...values))[0].n);
  const effects = (id: string) => count('SELECT count(*) AS n FROM effects WHERE event_id = $1::uuid', id);

  it('When the same event is delivered twice through the bus, then its effect happens once and the duplicate is acked', async () => {
    const { bus } = fx.bus();
    await bus.connect();
    const names = fx.queue('dedup');
    const log = captureLogger('idempotent');
    const handler = idempotent(db, 'dedup-consumer', applyEffect('dedup-consumer'), { logger: log.logger });
    let deliveries = 0;
    await bus.subscribe({
      queue: 'dedup',
      bindings: ['dedup.happened'],
      handler: async (event) => {
        deliveries += 1;
        await handler(event);
      },
    });
    const event = createEvent({ type: 'dedup.happened', source: 'test', data: {} });
    await bus.publish(event);
    await bus.publish(event); // e.g. the outbox relay crashed after publishing but before marking the row

    await waitFor(() => deliveries === 2, 'both deliveries');
    await sleep(100);
    expect(await effects(event.id)).toBe(1);
    expect(
      await count(
        'SELECT count(*) AS n FROM processed_events WHERE consumer = $1 AND event_id = $2::uuid',
        'dedup-consumer',
        event.id,
      ),
    ).toBe(1);
    expect(
      log.lines().filter((l) => l.message === 'duplicate event skipped' && l.event_id === event.id),
    ).toHaveLength(1);
    expect(await fx.admin.messageCount(names.main)).toBe(0);
    expect(await fx.admin.messageCount(names.dlq)).toBe(0);
  });

  it('When the handler fails, then neither its effect nor the dedup record survives and the retry applies it exactly once', async () => {
    const { bus } = fx.bus();
    await bus.connect();
    fx.queue('dedup-retry', 1);
    let calls = 0;
    const handler = idempotent(db, 'retry-consumer', async (tx, event) => {
      calls += 1;
      await applyEffect('retry-consumer')(tx, event);
      if (calls === 1) throw new Error('downstream timeout after the write');
    });
    await bus.subscribe({ queue: 'dedup-retry', bindings: ['dedup.retry'], retryDelaysMs: [100], handler });
    const event = createEvent({ type: 'dedup.retry', source: 'test', data: {} });
    await bus.publish(event);

    await waitFor(() => calls === 2, 'the retry');
    await sleep(100);
    expect(await effects(event.id)).toBe(1);
  });

  it('When two deliveries of one event run concurrently, then the second waits for the first and skips', async () => {
    let running = 0;
    let overlapped = false;
    const handler = idempotent(db, 'concurrent', async (tx, event) => {
      running += 1;
      overlapped ||= running > 1;
      await sleep(150);
      await applyEffect('concurrent')(tx, event);
      running -= 1;
    });
    const event = createEvent({ type: 'dedup.concurrent', source: 'test', data: {} });
    await Promise.all([handler(event), handler(event)]);
    expect(overlapped).toBe(false);
    expect(await effects(event.id)).toBe(1);
  });

  it('When two different consumers handle the same event, then each applies it once', async () => {
    const event = createEvent({ type: 'dedup.fanout', source: 'test', data: {} });
    const a = idempotent(db, 'consumer-a', applyEffect('consumer-a'));
    const b = idempotent(db, 'consumer-b', applyEffect('consumer-b'));
    await a(event);
    await b(event);
    await a(event);
    expect(await count('SELECT count(*) AS n FROM effects WHERE event_id = $1::uuid', event.id)).toBe(2);
    expect(
      await count('SELECT count(DISTINCT consumer) AS n FROM effects WHERE event_id = $1::uuid', event.id),
    ).toBe(2);
  });
});
