import { captureLogger, type CapturedLogger } from '@te/platform';
import {
  createEvent,
  enqueueEvent,
  OutboxRelay,
  type EventEnvelope,
  type RabbitMqEventBus,
} from '../src/index.js';
import { BusFixture } from './support/bus-fixture.js';
import { FaultBroker } from './support/fault-broker.js';
import { TestDatabase, type PgExecutor } from './support/pg-database.js';
import { waitFor } from './support/wait.js';

jest.setTimeout(120_000);

describe('RabbitMqEventBus across a broker crash', () => {
  const fx = new BusFixture();
  let broker: FaultBroker;
  let database: TestDatabase;
  let db: PgExecutor;
  let bus: RabbitMqEventBus;
  let log: CapturedLogger;
  let relay: OutboxRelay;
  const received: EventEnvelope[] = [];
  const ids = () => received.map((e) => e.id);
  const ready = () =>
    bus
      .readinessCheck()()
      .then(
        () => true,
        () => false,
      );

  beforeAll(async () => {
    await fx.init();
    broker = await FaultBroker.create(fx.runId);
    await broker.start();
    database = await TestDatabase.create(fx.runId);
    db = database.executor();
    ({ bus, log } = fx.bus({ url: broker.url, reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 } }));
    await bus.connect();
    await bus.subscribe({
      queue: 'survivor',
      bindings: ['crash.#'],
      handler: async (e) => void received.push(e),
    });
    relay = new OutboxRelay({
      db,
      bus,
      logger: captureLogger('relay').logger,
      pollIntervalMs: 100,
      retryBackoff: { baseMs: 200, maxMs: 500 },
    });
    relay.start();
  });
  afterAll(async () => {
    await relay?.stop();
    await bus?.close();
    await broker?.stop();
    await database?.drop();
    await fx.admin.close();
  });

  it('When the broker is killed and restarted, then the bus reconnects, resubscribes and publishes the outbox row written during the outage', async () => {
    const before = createEvent({ type: 'crash.before', source: 'test', data: {} });
    await bus.publish(before);
    await waitFor(() => ids().includes(before.id), 'the delivery before the crash');

    await broker.kill();
    await waitFor(async () => !(await ready()), 'readiness to fail');
    const lost = createEvent({ type: 'crash.during', source: 'test', data: {} });
    await expect(bus.publish(lost)).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    // The service keeps working: its transaction commits and the event waits in the outbox.
    const stored = createEvent({
      type: 'crash.outbox',
      source: 'test',
      data: { written: 'during the outage' },
    });
    await db.$transaction((tx) => enqueueEvent(tx, stored));
    relay.notify();
    await waitFor(async () => (await attemptsOf(stored.id)) >= 1, 'the relay to try and fail');

    await broker.start();
    await waitFor(ready, 'the bus to reconnect', 30_000);
    const after = createEvent({ type: 'crash.after', source: 'test', data: {} });
    await bus.publish(after);
    await waitFor(
      () => ids().includes(after.id) && ids().includes(stored.id),
      'the deliveries after the restart',
      15_000,
    );
    expect(ids()).not.toContain(lost.id);
    expect(ids().filter((id) => id === stored.id)).toHaveLength(1);
    const messages = log.lines().map((l) => l.message);
    expect(messages).toContain('event bus disconnected; reconnecting');
    expect(messages.filter((m) => m === 'event bus connected')).toHaveLength(2);
  });

  it('When the broker comes back without its data, then the bus declares its exchange and queues again and consumes', async () => {
    await broker.kill();
    broker.wipeData();
    await broker.start();
    await waitFor(ready, 'the bus to reconnect', 30_000);
    const fresh = createEvent({ type: 'crash.fresh', source: 'test', data: {} });
    // Publishing would be unroutable (or fail on a missing exchange) had the topology not been declared again.
    await bus.publish(fresh);
    await waitFor(() => ids().includes(fresh.id), 'the delivery on the fresh broker', 15_000);
  });

  async function attemptsOf(id: string): Promise<number> {
    const rows = await db.$queryRawUnsafe<{ attempts: number; published_at: Date | null }[]>(
      'SELECT attempts, published_at FROM outbox_events WHERE id = $1::uuid',
      id,
    );
    return rows[0]?.published_at === null ? rows[0].attempts : 0;
  }
});
