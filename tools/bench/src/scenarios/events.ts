import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createEvent,
  enqueueEvent,
  idempotent,
  OutboxRelay,
  RabbitMqEventBus,
  type EventHandler,
  type SqlExecutor,
  type TransactionalSqlExecutor,
} from '@te/events';
import { createLogger, createMetrics } from '@te/platform';
import { dropTestDatabase, openTestPool, runId, testDatabaseAdminUrl, type TestAmqp } from '@te/testing';
import { percentiles } from '../load.js';
import { WORKSPACE_ROOT } from '../processes.js';
import type { Scenario } from '../scenario.js';

type Pool = ReturnType<typeof openTestPool>;
type Queryable = Pick<Pool, 'query'>;

const CONSUMER = 'bench.outbox-consumer';

/**
 * 3. Events, in this process on an isolated database, exchange and queues: the library code services
 * run (RabbitMqEventBus with confirms, OutboxRelay, idempotent) over a `pg` executor.
 * Baseline: `connections` producers `publish()` directly to a plain consumer that only records.
 * Subject: the producers each commit a transaction that enqueues the event and notify the relay,
 * which publishes; the consumer records `(consumer, event_id)` in `processed_events` in its own
 * transaction (`idempotent`). Latency: from the producer's call to the consumer's handler having
 * committed. Throughput: events / (last consumed − first produced).
 */
export const events: Scenario = {
  id: 3,
  title: 'Events: publish → consume vs outbox → relay → RabbitMQ → idempotent consumer',
  async run({ stack, load, events: count, log }) {
    const database = await createEventsDatabase();
    const producerPool = openTestPool(database.url, load.connections + 2);
    const consumerPool = openTestPool(database.url, 10);
    const logger = createLogger({ service: 'bench-events', level: 'warn' });
    const metrics = createMetrics({ service: 'bench-events', defaultMetrics: false });
    const bus = (role: string) =>
      new RabbitMqEventBus({
        url: stack.amqp.url,
        exchange: stack.amqp.exchange,
        queuePrefix: stack.amqp.queuePrefix,
        logger,
        metrics,
        connectionName: `bench-${role}-${runId()}`,
        connectRetries: 1,
      });
    const producer = bus('producer');
    const consumer = bus('consumer');
    const db = executor(producerPool);
    const relay = new OutboxRelay({ db, bus: producer, logger });
    const sink = new Sink();
    try {
      await producer.connect();
      await consumer.connect();
      await subscribe(stack.amqp, consumer, 'bench.plain', 'bench.plain.#', async (event) =>
        sink.record(event.id),
      );
      const recordOnce = idempotent(executor(consumerPool), CONSUMER, async () => undefined);
      await subscribe(stack.amqp, consumer, 'bench.outbox', 'bench.outbox.#', async (event) => {
        await recordOnce(event);
        sink.record(event.id);
      });
      relay.start();

      const publishDirect = async (n: number) => {
        const event = createEvent({ type: 'bench.plain.tick', source: 'bench', data: { n } });
        sink.expect(event.id);
        await producer.publish(event);
      };
      const enqueue = async (n: number) => {
        const event = createEvent({ type: 'bench.outbox.tick', source: 'bench', data: { n } });
        sink.expect(event.id);
        await db.$transaction((tx) => enqueueEvent(tx, event));
        relay.notify();
      };
      const warmup = Math.max(50, Math.round(count / 10));
      log(`3: direct publish → consumer (${count} events)`);
      await produce(sink, publishDirect, warmup, load.connections);
      const baseline = await produce(sink, publishDirect, count, load.connections);
      log(`3: outbox → relay → idempotent consumer (${count} events)`);
      await produce(sink, enqueue, warmup, load.connections);
      const subject = await produce(sink, enqueue, count, load.connections);
      const scenario = '3 publish → outbox + relay + idempotent consumer';
      return [
        { scenario, metric: 'throughput', unit: 'ev/s', baseline: baseline.rate, subject: subject.rate },
        {
          scenario,
          metric: 'p50 produce→consumed',
          unit: 'ms',
          baseline: baseline.p50,
          subject: subject.p50,
        },
        {
          scenario,
          metric: 'p99 produce→consumed',
          unit: 'ms',
          baseline: baseline.p99,
          subject: subject.p99,
        },
      ];
    } finally {
      await relay.stop().catch(() => undefined);
      await producer.close().catch(() => undefined);
      await consumer.close().catch(() => undefined);
      await producerPool.end().catch(() => undefined);
      await consumerPool.end().catch(() => undefined);
      await database.drop();
    }
  },
};

/** Times from each event's production to its consumption; resolves a round once all are consumed. */
class Sink {
  private readonly started = new Map<string, number>();
  private latencies: number[] = [];
  private remaining = 0;
  private done?: () => void;

  expect(id: string): void {
    this.started.set(id, performance.now());
  }

  record(id: string): void {
    const t0 = this.started.get(id);
    if (t0 === undefined) return; // a redelivery of an event already counted
    this.started.delete(id);
    this.latencies.push(performance.now() - t0);
    this.remaining -= 1;
    if (this.remaining === 0) this.done?.();
  }

  round(count: number): { finished: Promise<void>; latencies: () => number[] } {
    this.latencies = [];
    this.remaining = count;
    const finished = new Promise<void>((resolve) => (this.done = resolve));
    return { finished, latencies: () => this.latencies };
  }
}

async function produce(
  sink: Sink,
  produceOne: (n: number) => Promise<void>,
  count: number,
  connections: number,
): Promise<{ rate: number; p50: number; p99: number }> {
  const round = sink.round(count);
  let next = 0;
  const started = performance.now();
  const producer = async () => {
    while (next < count) await produceOne(next++);
  };
  await Promise.all(Array.from({ length: connections }, producer));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    round.finished,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not every event was consumed within 60 s`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const elapsedS = (performance.now() - started) / 1000;
  return { rate: count / elapsedS, ...percentiles(round.latencies()) };
}

async function subscribe(
  amqp: TestAmqp,
  bus: RabbitMqEventBus,
  queue: string,
  binding: string,
  handler: EventHandler,
): Promise<void> {
  amqp.registerQueue(queue);
  await bus.subscribe({ queue, bindings: [binding], handler });
}

/** A database of this run with the outbox tables exactly as services' migrations create them. */
async function createEventsDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `te_bench_events_t${runId()}_${randomBytes(2).toString('hex')}`;
  const admin = openTestPool(testDatabaseAdminUrl(), 1);
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testDatabaseAdminUrl());
  url.pathname = `/${name}`;
  const drop = () => dropTestDatabase(url.toString());
  const pool = openTestPool(url.toString(), 1);
  try {
    await pool.query(await readFile(path.join(WORKSPACE_ROOT, 'libs/events/prisma/outbox.sql'), 'utf8'));
  } catch (error) {
    await drop();
    throw error;
  } finally {
    await pool.end();
  }
  return { url: url.toString(), drop };
}

/** The structural executor @te/events needs, over a pg pool (services pass their Prisma client). */
function executor(pool: Pool): TransactionalSqlExecutor {
  return {
    ...on(pool),
    async $transaction<R>(fn: (tx: SqlExecutor) => Promise<R>): Promise<R> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(on(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

function on(target: Queryable): SqlExecutor {
  return {
    $executeRawUnsafe: async (sql: string, ...values: unknown[]) =>
      (await target.query(sql, values)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) =>
      (await target.query(sql, values)).rows as T,
  };
}
