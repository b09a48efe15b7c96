import {
  AppError,
  currentTraceIds,
  getRequestContext,
  runWithRequestContext,
  startTracing,
  withSpan,
  type Tracing,
} from '@te/platform';
import { createEvent, type EventEnvelope } from '../src/index.js';
import { BusFixture, metricValue } from './support/bus-fixture.js';
import { gate, sleep, waitFor } from './support/wait.js';

const COUNT = 'amqp_message_processing_seconds_count';

describe('RabbitMqEventBus', () => {
  const fx = new BusFixture();
  let tracing: Tracing;

  beforeAll(async () => {
    tracing = startTracing({ service: 'events-test' });
    await fx.init();
  });
  afterAll(async () => {
    await fx.dispose();
    await tracing.shutdown();
  });

  it('When an event is published inside a request and a span, then the consumer gets the same envelope with the trace and request id restored', async () => {
    const { bus, metrics } = fx.bus();
    await bus.connect();
    const names = fx.queue('ctx');
    const tap = fx.rawQueue('tap');
    await fx.admin.tap(fx.exchange, 'user.registered', tap);
    const seen: { event: EventEnvelope; requestId?: string; traceId?: string }[] = [];
    await bus.subscribe({
      queue: 'ctx',
      bindings: ['user.*'],
      handler: async (event) => {
        seen.push({ event, requestId: getRequestContext()?.requestId, traceId: currentTraceIds().traceId });
      },
    });

    const sent = await runWithRequestContext({ requestId: 'req-42' }, () =>
      withSpan('POST /users', {}, async (span) => {
        const event = createEvent({
          type: 'user.registered',
          source: 'user-service',
          subject: 'u1',
          data: { email: 'a@b.c' },
        });
        await bus.publish(event);
        return { event, traceId: span.spanContext().traceId };
      }),
    );

    await waitFor(() => seen.length === 1, 'the delivery');
    expect(seen[0].event).toEqual(sent.event);
    expect(seen[0].requestId).toBe('req-42');
    expect(seen[0].traceId).toBe(sent.traceId);
    const raw = await fx.admin.waitForMessage(tap);
    expect(raw.fields.routingKey).toBe('user.registered');
    expect(raw.properties).toMatchObject({
      deliveryMode: 2,
      contentType: 'application/json',
      messageId: sent.event.id,
      type: 'user.registered',
      headers: { traceparent: sent.event.traceparent, 'x-request-id': 'req-42' },
    });
    expect(await metricValue(metrics.amqpPublished, { type: 'user.registered', outcome: 'confirmed' })).toBe(
      1,
    );
    await waitFor(
      async () =>
        (await metricValue(metrics.amqpConsumeDuration, { queue: 'ctx', outcome: 'acked' }, COUNT)) === 1,
      'the consume metric',
    );
    expect(await fx.admin.messageCount(names.main)).toBe(0);
  });

  it('When a work queue is declared without a consumer, then events wait in it, and a consumer subscribing later with the same queue gets them', async () => {
    const { bus: producer } = fx.bus();
    await producer.connect();
    const names = fx.queue('jobs');
    await producer.declareQueue({ queue: 'jobs', bindings: ['job.requested'] });
    const job = createEvent({ type: 'job.requested', source: 'producer', data: { n: 1 } });

    await producer.publish(job); // routable: no "unroutable" rejection although nobody consumes
    expect(await fx.admin.messageCount(names.main)).toBe(1);

    const { bus: worker } = fx.bus();
    await worker.connect();
    const got: string[] = [];
    await worker.subscribe({
      queue: 'jobs',
      bindings: ['job.requested'],
      handler: async (e) => void got.push(e.id),
    });
    await waitFor(() => got.length === 1, 'the waiting job');
    expect(got).toEqual([job.id]);
  });

  it('When a queue declaration is invalid, then declareQueue refuses it naming the problems', async () => {
    const { bus } = fx.bus();
    await expect(bus.declareQueue({ queue: 'bad queue', bindings: [] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/queue must be.*bindings must be/),
    });
  });

  it('When no queue is bound to the event type, then publish rejects with UNAVAILABLE (unroutable) and counts it', async () => {
    const { bus, metrics } = fx.bus();
    await bus.connect();
    const publishing = bus.publish(createEvent({ type: 'nobody.listens', source: 'test', data: {} }));
    await expect(publishing).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { reason: 'unroutable' },
    });
    expect(await metricValue(metrics.amqpPublished, { type: 'nobody.listens', outcome: 'unroutable' })).toBe(
      1,
    );
  });

  it('When the bus is not connected or closed, then publish rejects with UNAVAILABLE and readiness fails', async () => {
    const { bus } = fx.bus();
    const ready = bus.readinessCheck();
    const event = createEvent({ type: 'x.y', source: 'test', data: {} });
    await expect(bus.publish(event)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { reason: 'not_connected' },
    });
    await expect(ready()).rejects.toBeInstanceOf(AppError);
    await bus.connect();
    await expect(ready()).resolves.toBeUndefined();
    await bus.close();
    await expect(ready()).rejects.toThrow(/closing/);
    await expect(bus.publish(event)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('When the broker cannot be reached at start-up, then connect rejects with UNAVAILABLE instead of hanging', async () => {
    const { bus } = fx.bus({
      url: 'amqp://guest:guest@127.0.0.1:1',
      connectRetries: 1,
      reconnect: { initialDelayMs: 50 },
    });
    await expect(bus.connect()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('When the handler keeps failing, then it is retried after each delay and then lands in the DLQ with the attempt count and error', async () => {
    const { bus, metrics } = fx.bus();
    await bus.connect();
    const names = fx.queue('failing', 2);
    const attemptsAt: number[] = [];
    const requestIds: (string | undefined)[] = [];
    await bus.subscribe({
      queue: 'failing',
      bindings: ['order.placed'],
      retryDelaysMs: [300, 600],
      handler: async () => {
        attemptsAt.push(Date.now());
        requestIds.push(getRequestContext()?.requestId);
        throw new Error('payment service down');
      },
    });
    const event = runWithRequestContext({ requestId: 'req-retry' }, () =>
      createEvent({ type: 'order.placed', source: 'test', data: { n: 1 } }),
    );
    await bus.publish(event);

    const dead = await fx.admin.waitForMessage(names.dlq);
    expect(attemptsAt).toHaveLength(3);
    // TTL expiry is checked by the broker with some slack; never earlier than the delay (minus clock jitter).
    expect(attemptsAt[1] - attemptsAt[0]).toBeGreaterThanOrEqual(280);
    expect(attemptsAt[2] - attemptsAt[1]).toBeGreaterThanOrEqual(580);
    expect(requestIds).toEqual(['req-retry', 'req-retry', 'req-retry']);
    expect(JSON.parse(dead.content.toString())).toEqual(event);
    expect(dead.properties.messageId).toBe(event.id);
    expect(dead.properties.headers).toMatchObject({
      'x-attempts': 3,
      'x-dead-letter-reason': 'handler_failed',
      'x-error': 'payment service down',
      'x-original-queue': names.main,
    });
    expect(dead.properties.headers?.['x-death']).toBeUndefined();
    await sleep(800);
    expect(attemptsAt).toHaveLength(3);
    for (const q of [names.main, ...names.retries, names.dlq]) expect(await fx.admin.messageCount(q)).toBe(0);
    expect(
      await metricValue(metrics.amqpConsumeDuration, { queue: 'failing', outcome: 'retried' }, COUNT),
    ).toBe(2);
    expect(
      await metricValue(metrics.amqpConsumeDuration, { queue: 'failing', outcome: 'dead_lettered' }, COUNT),
    ).toBe(1);
  });

  it('When the handler fails once, then the retried delivery succeeds and nothing reaches the DLQ', async () => {
    const { bus } = fx.bus();
    await bus.connect();
    const names = fx.queue('flaky', 1);
    let calls = 0;
    await bus.subscribe({
      queue: 'flaky',
      bindings: ['flaky.happened'],
      retryDelaysMs: [200],
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
      },
    });
    await bus.publish(createEvent({ type: 'flaky.happened', source: 'test', data: {} }));
    await waitFor(() => calls === 2, 'the retry');
    await sleep(300);
    expect(calls).toBe(2);
    expect(await fx.admin.messageCount(names.dlq)).toBe(0);
  });

  it('When a malformed message arrives, then it goes to the DLQ at once without reaching the handler or being retried', async () => {
    const { bus, log } = fx.bus();
    await bus.connect();
    const names = fx.queue('strict', 1);
    let calls = 0;
    await bus.subscribe({
      queue: 'strict',
      bindings: ['strict.#'],
      retryDelaysMs: [100],
      handler: async () => void (calls += 1),
    });

    await fx.admin.publish(
      fx.exchange,
      'strict.thing',
      Buffer.from('{"specversion":"1.0","id":"not-a-uuid"'),
      { messageId: 'm-1', persistent: true },
    );

    const dead = await fx.admin.waitForMessage(names.dlq);
    expect(dead.content.toString()).toBe('{"specversion":"1.0","id":"not-a-uuid"');
    expect(dead.properties.headers).toMatchObject({
      'x-attempts': 1,
      'x-dead-letter-reason': 'malformed',
      'x-error-code': 'VALIDATION_FAILED',
    });
    await sleep(400);
    expect(calls).toBe(0);
    expect(await fx.admin.messageCount(names.dlq)).toBe(0);
    expect(await fx.admin.messageCount(names.retries[0])).toBe(0);
    expect(
      log.lines().some((l) => l.level === 'error' && l.message === 'malformed message; dead-lettering it'),
    ).toBe(true);
  });

  it('When handlers are slow, then no more than `prefetch` messages are in flight at once', async () => {
    const { bus } = fx.bus();
    await bus.connect();
    fx.queue('bounded');
    const hold = gate();
    let running = 0;
    let maxRunning = 0;
    let done = 0;
    await bus.subscribe({
      queue: 'bounded',
      bindings: ['bounded.work'],
      prefetch: 2,
      handler: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await hold.promise;
        running -= 1;
        done += 1;
      },
    });
    for (let i = 0; i < 6; i++)
      await bus.publish(createEvent({ type: 'bounded.work', source: 'test', data: { i } }));
    await waitFor(() => running === 2, 'two handlers running');
    await sleep(300);
    expect(maxRunning).toBe(2);
    hold.open();
    await waitFor(() => done === 6, 'all six handled');
    expect(maxRunning).toBe(2);
  });

  it('When close() is called while a handler runs, then it waits for the handler and its ack before closing', async () => {
    const { bus } = fx.bus();
    await bus.connect();
    const names = fx.queue('slow');
    const hold = gate();
    let started = false;
    let finished = false;
    await bus.subscribe({
      queue: 'slow',
      bindings: ['slow.work'],
      handler: async () => {
        started = true;
        await hold.promise;
        finished = true;
      },
    });
    await bus.publish(createEvent({ type: 'slow.work', source: 'test', data: {} }));
    await waitFor(() => started, 'the handler to start');

    let closed = false;
    const closing = bus.close().then(() => (closed = true));
    await sleep(300);
    expect(closed).toBe(false);
    hold.open();
    await closing;
    expect(finished).toBe(true);
    // Acked, not returned to the queue when the channel closed.
    expect(await fx.admin.messageCount(names.main)).toBe(0);
  });

  it('When the broker cancels the consumer because its queue was deleted, then the bus survives, declares the queue again and keeps consuming', async () => {
    const { bus, log } = fx.bus();
    await bus.connect();
    const names = fx.queue('fragile');
    const seen: string[] = [];
    await bus.subscribe({
      queue: 'fragile',
      bindings: ['fragile.x'],
      handler: async (e) => void seen.push(e.id),
    });

    await fx.admin.deleteQueue(names.main);
    await waitFor(() => log.lines().some((l) => l.message === 'consumer resubscribed'), 'the resubscription');
    const event = createEvent({ type: 'fragile.x', source: 'test', data: {} });
    await bus.publish(event);
    await waitFor(() => seen.length === 1, 'the delivery after resubscribing');
    expect(seen).toEqual([event.id]);
    await expect(bus.readinessCheck()()).resolves.toBeUndefined();
  });

  it('When a subscription is invalid or its queue is taken, then subscribe rejects', async () => {
    const { bus } = fx.bus();
    await bus.connect();
    fx.queue('dup');
    const handler = async () => undefined;
    await expect(bus.subscribe({ queue: 'bad', bindings: [], handler })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(bus.subscribe({ queue: 'bad', bindings: ['a..b'], handler })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(
      bus.subscribe({ queue: 'bad', bindings: ['a'], prefetch: 0, handler }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await bus.subscribe({ queue: 'dup', bindings: ['dup.x'], handler });
    await expect(bus.subscribe({ queue: 'dup', bindings: ['dup.x'], handler })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});
