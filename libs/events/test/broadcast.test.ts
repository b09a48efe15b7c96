import type { CapturedLogger } from '@te/platform';
import { createEvent, type EventEnvelope, type RabbitMqEventBus } from '../src/index.js';
import { BusFixture, metricValue } from './support/bus-fixture.js';
import { FaultBroker } from './support/fault-broker.js';
import { RabbitAdmin } from './support/rabbit-admin.js';
import { waitFor } from './support/wait.js';

const COUNT = 'amqp_message_processing_seconds_count';

/** The last broadcast queue a bus logged for `queue` (its name is random per connection). */
function broadcastQueueOf(log: CapturedLogger, prefix: string, queue: string): string {
  const names = log
    .lines()
    .map((line) => line['queue'])
    .filter((name): name is string => typeof name === 'string' && name.startsWith(`${prefix}${queue}.`));
  const last = names.at(-1);
  if (!last) throw new Error(`no broadcast queue logged for ${queue}`);
  return last;
}

describe('RabbitMqEventBus broadcast subscriptions', () => {
  const fx = new BusFixture();

  beforeAll(() => fx.init());
  afterAll(() => fx.dispose()); // broadcast queues need no cleanup: they go with their connections

  async function replica(queue: string, handler: (event: EventEnvelope) => Promise<void>) {
    const replica = fx.bus();
    await replica.bus.connect();
    await replica.bus.subscribe({ queue, bindings: [`${queue}.#`], handler, broadcast: true });
    return { ...replica, queue: broadcastQueueOf(replica.log, fx.prefix, queue) };
  }

  it('When two replicas subscribe broadcast, then each gets every event, while a competing queue on the same binding gets each once', async () => {
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = await replica('cache', async (e) => void seenA.push(e.id));
    const b = await replica('cache', async (e) => void seenB.push(e.id));
    // The classic work queue beside them, consumed by two competing replicas.
    fx.queue('workers');
    const worked: string[] = [];
    for (const bus of [a.bus, b.bus])
      await bus.subscribe({
        queue: 'workers',
        bindings: ['cache.#'],
        handler: async (e) => void worked.push(e.id),
      });

    const { bus: publisher } = fx.bus();
    await publisher.connect();
    const sent = [1, 2, 3, 4].map((n) => createEvent({ type: 'cache.changed', source: 'test', data: { n } }));
    for (const event of sent) await publisher.publish(event);
    const ids = sent.map((event) => event.id);

    await waitFor(() => seenA.length === 4 && seenB.length === 4, 'every replica to get every event');
    expect(seenA.sort()).toEqual([...ids].sort());
    expect(seenB.sort()).toEqual([...ids].sort());
    await waitFor(() => worked.length >= 4, 'the competing queue');
    expect(worked.sort()).toEqual([...ids].sort());

    // Each replica has its own queue under the run's prefix; acked deliveries are counted as for any queue.
    expect(a.queue).toMatch(
      new RegExp(`^${fx.prefix.replace('.', '\\.')}cache\\.[A-Za-z0-9_-]+\\.[0-9a-f]{8}$`),
    );
    expect(b.queue).not.toBe(a.queue);
    await waitFor(
      async () =>
        (await metricValue(a.metrics.amqpConsumeDuration, { queue: 'cache', outcome: 'acked' }, COUNT)) === 4,
      'the consume metric',
    );
  });

  it('When a replica closes, then its queue is deleted and an event only it was bound to becomes unroutable', async () => {
    const only = await replica('solo', async () => undefined);
    const { bus: publisher } = fx.bus();
    await publisher.connect();
    expect(await fx.admin.exclusiveQueueExists(only.queue)).toBe(true);
    await publisher.publish(createEvent({ type: 'solo.changed', source: 'test', data: {} })); // routable

    await only.bus.close();

    expect(await fx.admin.exclusiveQueueExists(only.queue)).toBe(false);
    await expect(
      publisher.publish(createEvent({ type: 'solo.changed', source: 'test', data: {} })),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'unroutable' } });
  });

  it('When a broadcast handler throws, then the event is redelivered once, then dropped, and the subscription keeps consuming', async () => {
    const calls: string[] = [];
    const sub = await replica('flaky', async (event) => {
      calls.push(event.type);
      if (event.type === 'flaky.always') throw new Error('cache reload failed');
      if (event.type === 'flaky.once' && calls.filter((t) => t === 'flaky.once').length === 1)
        throw new Error('passing failure');
    });
    const { bus: publisher } = fx.bus();
    await publisher.connect();

    await publisher.publish(createEvent({ type: 'flaky.always', source: 'test', data: {} }));
    await publisher.publish(createEvent({ type: 'flaky.once', source: 'test', data: {} }));
    await publisher.publish(createEvent({ type: 'flaky.after', source: 'test', data: {} }));

    await waitFor(() => calls.includes('flaky.after') && calls.length >= 5, 'the later event');
    expect(calls.filter((t) => t === 'flaky.always')).toHaveLength(2);
    expect(calls.filter((t) => t === 'flaky.once')).toHaveLength(2);
    const outcome = (o: string) =>
      metricValue(sub.metrics.amqpConsumeDuration, { queue: 'flaky', outcome: o }, COUNT);
    await waitFor(async () => (await outcome('acked')) === 2, 'the acked deliveries');
    expect(await outcome('requeued')).toBe(2);
    expect(await outcome('discarded')).toBe(1);
    expect(sub.log.lines().map((l) => l['message'])).toContain(
      'broadcast handler failed again; dropping the event',
    );
  });

  it('When a broadcast subscription asks for retries, or onGap is given without broadcast, then subscribe refuses it', async () => {
    const { bus } = fx.bus();
    const handler = async () => undefined;
    await expect(
      bus.subscribe({ queue: 'x', bindings: ['x.#'], handler, broadcast: true, retryDelaysMs: [1000] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('retry') });
    await expect(
      bus.subscribe({ queue: 'y', bindings: ['y.#'], handler, onGap: () => undefined }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('onGap') });
  });
});

describe('RabbitMqEventBus broadcast subscription across a broker crash', () => {
  const fx = new BusFixture();
  let broker: FaultBroker;
  let bus: RabbitMqEventBus;
  let log: CapturedLogger;
  const received: string[] = [];
  const gaps: number[] = [];

  beforeAll(async () => {
    await fx.init();
    broker = await FaultBroker.create(fx.runId);
    await broker.start();
    ({ bus, log } = fx.bus({ url: broker.url, reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 } }));
    await bus.connect();
    await bus.subscribe({
      queue: 'invalidate',
      bindings: ['inv.#'],
      broadcast: true,
      handler: async (e) => void received.push(e.id),
      onGap: () => void gaps.push(Date.now()),
    });
  }, 120_000);
  afterAll(async () => {
    await bus?.close();
    await broker?.stop();
    await fx.admin.close();
  }, 60_000);

  it('When the broker is killed and restarted, then the subscription is declared again on the new connection and onGap fires', async () => {
    const before = createEvent({ type: 'inv.before', source: 'test', data: {} });
    await bus.publish(before);
    await waitFor(() => received.includes(before.id), 'the delivery before the crash');
    const firstQueue = broadcastQueueOf(log, fx.prefix, 'invalidate');
    expect(gaps).toHaveLength(0);

    await broker.kill();
    await broker.start();
    await waitFor(() => gaps.length === 1, 'the gap callback after the reconnection', 60_000);

    const secondQueue = broadcastQueueOf(log, fx.prefix, 'invalidate');
    expect(secondQueue).not.toBe(firstQueue);
    const admin = await RabbitAdmin.open(broker.url);
    try {
      expect(await admin.exclusiveQueueExists(firstQueue)).toBe(false);
      expect(await admin.exclusiveQueueExists(secondQueue)).toBe(true);
    } finally {
      await admin.close();
    }
    const after = createEvent({ type: 'inv.after', source: 'test', data: {} });
    await bus.publish(after); // routable again: the new queue is bound
    await waitFor(() => received.includes(after.id), 'the delivery after the restart');
    expect(log.lines().map((l) => l['message'])).toContain(
      'broadcast subscription re-established; events published meanwhile were missed',
    );
  }, 120_000);
});
