import type { EventEnvelope } from '@te/events';
import type pg from 'pg';
import { testAmqp, waitFor } from '@te/testing';
import type { AmqpProbe } from '../src/amqp-probe.js';
import { PLATFORM_EVENTS_CONSUMER, type FaultService } from '../src/fault-service.js';
import {
  notExactlyOnce,
  processedCount,
  recordedCopies,
  sleep,
  userRegisteredEvents,
} from '../src/platform-events.js';
import { machineBrokerScenario } from '../src/scenario-setup.js';

const BULK = 1000;

/**
 * The consumer is killed, not the broker: the machine's RabbitMQ serves this file (the run's own
 * exchange and queues). integration-service's platform-events consumer is the process killed.
 */
describe('Scenario 2: a consumer killed (kill -9) mid-message', () => {
  const amqp = testAmqp();
  const mainQueue = `${amqp.queuePrefix}${PLATFORM_EVENTS_CONSUMER}`;
  const scenario = machineBrokerScenario('02-consumer-kill', 3);
  let integration: FaultService;
  let db: pg.Pool;
  let probe: AmqpProbe;
  beforeAll(() => ({ integration, db, probe } = scenario));

  it('When the consumer is killed inside its transaction, then the broker redelivers the message to the next process and its effect is applied once', async () => {
    const [event] = userRegisteredEvents(1);
    // Hold the consumer inside its handler: our uncommitted row with the event's id makes its INSERT
    // into platform_events wait, after it has already written its processed_events row.
    const blocker = await db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO platform_events (id, type, source, occurred_at, data)
         VALUES ($1::uuid, 'fault.blocker', 'fault-tests', now(), '{}')`,
        [event.id],
      );
      const killed = integration.service;
      await publish([event]);
      await waitFor(() => handlerWaitingOnLock(db), {
        timeoutMs: 20_000,
        intervalMs: 20,
        description: 'the consumer to be inside its transaction, waiting',
      });
      // Well inside the handler's 5 s transaction timeout: the crash, not a timeout, ends it.
      await integration.kill();
      expect(killed.process.signalCode).toBe('SIGKILL');
      // The broker takes the unacknowledged message back (ready again, not in a retry queue).
      await waitFor(async () => (await probe.messageCount(mainQueue)) === 1, {
        timeoutMs: 20_000,
        description: 'the message to be back in the queue',
      });
      await blocker.query('ROLLBACK');
    } finally {
      blocker.release();
    }

    await integration.start();
    await waitFor(async () => (await copiesOf(event.id)).processed === 1, {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: 'the redelivered event to be processed',
    });
    await sleep(1_000);

    expect(await copiesOf(event.id)).toEqual({ processed: 1, platformEvents: 1 });
    const { rows } = await db.query('SELECT type, source, subject, data FROM platform_events WHERE id = $1', [
      event.id,
    ]);
    expect(rows[0]).toEqual({
      type: 'user.registered',
      source: 'user-service',
      subject: event.subject,
      data: event.data,
    });
    const processedBy = (n: number) =>
      integration.processes[n]
        .logLines()
        .filter(
          (line) =>
            line['message'] === 'event processed' &&
            line['event_id'] === event.id &&
            line['queue'] === mainQueue,
        );
    expect(processedBy(0)).toEqual([]);
    // The same delivery's first handler run as far as our retry header goes (a broker redelivery,
    // not a retry), on the new process.
    expect(processedBy(1)).toEqual([expect.objectContaining({ attempt: 1 })]);
    expect(await probe.messageCount(mainQueue)).toBe(0);
  });

  it(`When the consumer is killed while ${BULK} messages are in flight, then after a restart each has exactly one effect`, async () => {
    const events = userRegisteredEvents(BULK);
    const before = await processedCount(db);
    await publish(events);
    const atKill = await waitFor(
      async () => {
        const processed = (await processedCount(db)) - before;
        return processed >= 200 && processed;
      },
      { timeoutMs: 60_000, intervalMs: 20, description: 'the consumer to be half-way' },
    );
    await integration.kill();
    expect(atKill).toBeLessThan(BULK);

    await integration.start();
    await waitFor(async () => (await processedCount(db)) - before >= BULK, {
      timeoutMs: 120_000,
      intervalMs: 250,
      description: `all ${BULK} events to be processed`,
    });
    await sleep(1_000);

    const copies = await recordedCopies(db);
    const ids = events.map((e) => e.id);
    const mine = (map: Map<string, number>) => new Map([...map].filter(([id]) => ids.includes(id)));
    expect(notExactlyOnce(ids, mine(copies.platformEvents))).toEqual([]);
    expect(notExactlyOnce(ids, mine(copies.processed))).toEqual([]);
    expect(await probe.messageCount(mainQueue)).toBe(0);
    expect(await probe.messageCount(`${mainQueue}.dlq`)).toBe(0);
    const duplicates = integration.processes
      .at(-1)!
      .logLines()
      .filter((line) => line['message'] === 'duplicate event skipped').length;
    process.stdout.write(
      `[fault-tests] consumer kill: ${BULK} events, killed after ${atKill} processed, ` +
        `${duplicates} redelivered duplicates skipped by the new process\n`,
    );
  });

  function publish(events: EventEnvelope[]): Promise<void> {
    return probe.publish(
      amqp.exchange,
      events.map((event) => ({
        routingKey: event.type,
        body: Buffer.from(JSON.stringify(event)),
        options: { messageId: event.id, type: event.type, appId: event.source },
      })),
    );
  }

  async function copiesOf(id: string): Promise<{ processed: number; platformEvents: number }> {
    const { rows } = await db.query<{ processed: number; platform_events: number }>(
      `SELECT (SELECT count(*)::int FROM processed_events WHERE consumer = $2 AND event_id = $1::uuid) AS processed,
              (SELECT count(*)::int FROM platform_events WHERE id = $1::uuid) AS platform_events`,
      [id, PLATFORM_EVENTS_CONSUMER],
    );
    return { processed: rows[0].processed, platformEvents: rows[0].platform_events };
  }
});

/** A session of the service waits for a row lock on its INSERT into platform_events. */
async function handlerWaitingOnLock(db: pg.Pool): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock'
       AND query ILIKE '%INSERT INTO%platform_events%'`,
  );
  return rows[0].n > 0;
}
