import { AppError, captureLogger } from '@te/platform';
import {
  createEvent,
  enqueueEvent,
  OutboxRelay,
  purgePublished,
  type EventEnvelope,
  type EventPublisher,
} from '../src/index.js';
import { BusFixture } from './support/bus-fixture.js';
import { TestDatabase, type PgExecutor } from './support/pg-database.js';
import { gate, sleep, waitFor } from './support/wait.js';

interface Row {
  id: string;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
}

describe('transactional outbox', () => {
  const fx = new BusFixture();
  let database: TestDatabase;
  let db: PgExecutor;
  const relays: OutboxRelay[] = [];
  const received: EventEnvelope[] = [];
  let publisher: EventPublisher;

  beforeAll(async () => {
    await fx.init();
    database = await TestDatabase.create(fx.runId);
    db = database.executor();
    const { bus } = fx.bus();
    await bus.connect();
    fx.queue('outbox-sink');
    await bus.subscribe({
      queue: 'outbox-sink',
      bindings: ['outbox.#'],
      handler: async (e) => void received.push(e),
    });
    publisher = bus;
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    received.length = 0;
    await db.$executeRawUnsafe('DELETE FROM outbox_events');
  });
  afterAll(async () => {
    await fx.dispose();
    await database.drop();
  });

  function relay(options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) {
    const r = new OutboxRelay({
      db,
      bus: publisher,
      logger: captureLogger('relay').logger,
      pollIntervalMs: 50,
      ...options,
    });
    relays.push(r);
    return r;
  }
  const rows = () =>
    db.$queryRawUnsafe<Row[]>(
      'SELECT id::text, published_at, attempts, last_error FROM outbox_events ORDER BY created_at, id',
    );
  const event = (type: string, data: unknown = {}) => createEvent({ type, source: 'outbox-test', data });

  it('When a transaction that enqueued events commits, then the relay publishes them in order and marks them published', async () => {
    const events = [
      event('outbox.created', { n: 1 }),
      event('outbox.created', { n: 2 }),
      event('outbox.updated', { n: 3 }),
    ];
    await db.$transaction(async (tx) => {
      for (const e of events) await enqueueEvent(tx, e);
    });
    relay().start();
    await waitFor(() => received.length === 3, 'three deliveries');
    expect(received).toEqual(events);
    // The broker confirms (and may deliver) before the relay's UPDATE commits: wait for the marks.
    await waitFor(async () => (await rows()).every((r) => r.published_at !== null), 'rows marked published');
    const stored = await rows();
    expect(stored.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(stored.every((r) => r.published_at instanceof Date && r.attempts === 0)).toBe(true);
  });

  it('When the transaction that enqueued an event rolls back, then the event is never stored nor published', async () => {
    const doomed = event('outbox.doomed');
    await expect(
      db.$transaction(async (tx) => {
        await enqueueEvent(tx, doomed);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const marker = event('outbox.marker');
    await db.$transaction((tx) => enqueueEvent(tx, marker));
    relay().start();
    await waitFor(() => received.some((e) => e.id === marker.id), 'the marker');
    await sleep(200);
    expect(received.map((e) => e.id)).toEqual([marker.id]);
    expect((await rows()).map((r) => r.id)).toEqual([marker.id]);
  });

  it('When an event is not valid, then enqueueEvent refuses it before it reaches the table', async () => {
    const bad = { ...event('outbox.bad'), id: 'nope' };
    await expect(db.$transaction((tx) => enqueueEvent(tx, bad))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await rows()).toEqual([]);
  });

  it('When no queue is bound to the event type, then the row is marked published with the reason, never retried, and a warning is logged', async () => {
    const unheard = event('nobody.subscribes');
    await db.$transaction((tx) => enqueueEvent(tx, unheard));
    const log = captureLogger('relay');
    relay({ logger: log.logger, retryBackoff: { baseMs: 50, maxMs: 50 } }).start();

    await waitFor(async () => (await rows())[0].published_at !== null, 'the row to be marked');
    await sleep(300); // several poll intervals: it must not be claimed again
    const [row] = await rows();
    expect(row).toMatchObject({ attempts: 0, last_error: expect.stringMatching(/^unroutable/) });
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ message: 'outbox event had no subscriber', event_id: unheard.id }),
    );
  });

  it('When publishing fails for another reason, then the row records each attempt and error and is published once the broker takes it', async () => {
    const retried = event('outbox.created', { n: 'retried' });
    await db.$transaction((tx) => enqueueEvent(tx, retried));
    let refusals = 2;
    const flaky: EventPublisher = {
      publish: async (e) => {
        if (refusals > 0) {
          refusals -= 1;
          throw new AppError('UNAVAILABLE', 'Publish timed out', { details: { reason: 'timeout' } });
        }
        await publisher.publish(e);
      },
    };
    relay({ bus: flaky, retryBackoff: { baseMs: 100, maxMs: 100 } }).start();

    await waitFor(() => received.some((e) => e.id === retried.id), 'the delivery after two refusals');
    await waitFor(async () => (await rows())[0].published_at !== null, 'the row to be marked');
    expect((await rows())[0]).toMatchObject({ attempts: 2, last_error: 'Publish timed out' });
  });

  it('When two relays run at once over many rows, then every row is published exactly once', async () => {
    const events = Array.from({ length: 200 }, (_, i) => event('outbox.bulk', { i }));
    for (let i = 0; i < events.length; i += 50) {
      await db.$transaction(async (tx) => {
        for (const e of events.slice(i, i + 50)) await enqueueEvent(tx, e);
      });
    }
    // Slow publishers make the two relays' batches overlap, as two replicas' would.
    const claimedBy = [0, 0];
    const slow = (n: number): EventPublisher => ({
      publish: async (e) => {
        claimedBy[n] += 1;
        await sleep(2);
        await publisher.publish(e);
      },
    });
    relay({ bus: slow(0), batchSize: 10, pollIntervalMs: 10 }).start();
    relay({ bus: slow(1), batchSize: 10, pollIntervalMs: 10 }).start();

    await waitFor(() => received.length >= 200, 'all deliveries', 20_000);
    await sleep(300);
    const counts = new Map<string, number>();
    for (const e of received) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    expect(received).toHaveLength(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(claimedBy[0] + claimedBy[1]).toBe(200);
    expect(claimedBy[0]).toBeGreaterThan(0);
    expect(claimedBy[1]).toBeGreaterThan(0);
    await waitFor(async () => (await rows()).every((r) => r.published_at !== null), 'rows marked published');
  });

  it('When notified after a commit, then the relay publishes without waiting for the poll interval', async () => {
    const r = relay({ pollIntervalMs: 60_000 });
    r.start();
    await sleep(100);
    const now = event('outbox.now');
    await db.$transaction((tx) => enqueueEvent(tx, now));
    const notifiedAt = Date.now();
    r.notify();
    await waitFor(() => received.length === 1, 'the delivery', 5_000);
    expect(Date.now() - notifiedAt).toBeLessThan(2_000);
  });

  it('When stop() is called during a batch, then it resolves only after the batch has been published and committed', async () => {
    const hold = gate();
    let publishing = false;
    const r = relay({
      bus: {
        publish: async (e) => {
          publishing = true;
          await hold.promise;
          await publisher.publish(e);
        },
      },
    });
    await db.$transaction((tx) => enqueueEvent(tx, event('outbox.stopping')));
    r.start();
    await waitFor(() => publishing, 'the publish to start');
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await sleep(200);
    expect(stopped).toBe(false);
    hold.open();
    await stopping;
    expect((await rows())[0].published_at).not.toBeNull();
  });

  it('When purgePublished runs, then it deletes only rows published before the cut-off', async () => {
    const [oldPublished, recentPublished, oldPending] = [
      event('outbox.a'),
      event('outbox.b'),
      event('outbox.c'),
    ];
    await db.$transaction(async (tx) => {
      for (const e of [oldPublished, recentPublished, oldPending]) await enqueueEvent(tx, e);
    });
    await db.$executeRawUnsafe(
      `UPDATE outbox_events SET published_at = now() - interval '2 days' WHERE id = $1`,
      oldPublished.id,
    );
    await db.$executeRawUnsafe(
      `UPDATE outbox_events SET published_at = now() WHERE id = $1`,
      recentPublished.id,
    );
    await db.$executeRawUnsafe(
      `UPDATE outbox_events SET created_at = now() - interval '3 days' WHERE id = $1`,
      oldPending.id,
    );

    expect(await purgePublished(db, 24 * 3600 * 1000)).toBe(1);
    expect((await rows()).map((r) => r.id).sort()).toEqual([recentPublished.id, oldPending.id].sort());
  });
});
