import { Redis } from 'ioredis';
import type pg from 'pg';
import { testAmqp, testRedisPrefix, waitFor } from '@te/testing';
import { AmqpProbe } from '../src/amqp-probe.js';
import type { FaultService } from '../src/fault-service.js';
import type { OwnBroker } from '../src/own-broker.js';
import {
  commitOutboxRows,
  notExactlyOnce,
  processedCount,
  recordedCopies,
  sleep,
  unpublishedCount,
  userRegisteredEvents,
} from '../src/platform-events.js';
import { ownBrokerScenario } from '../src/scenario-setup.js';

/** Committed in batches while the broker runs; it is killed while these flow. */
const BEFORE_KILL = 1000;
/** Committed while the broker is down (the business keeps writing; the outbox keeps the events). */
const DURING_OUTAGE = 500;
/** Committed right after the broker is back, possibly before the services have reconnected. */
const AFTER_RESTART = 500;
const BATCH = 100;

describe('Scenario 1: RabbitMQ killed (kill -9) and restarted while events flow', () => {
  const scenario = ownBrokerScenario('01-broker-kill', 'kill', 3);
  let broker: OwnBroker;
  let users: FaultService;
  let integration: FaultService;
  let userDb: pg.Pool;
  let integrationDb: pg.Pool;
  beforeAll(() => ({ broker, users, integration, userDb, integrationDb } = scenario));

  it('When the broker is killed mid-flow and restarted, then every committed event is recorded exactly once and both services reconnect by themselves', async () => {
    const flow = userRegisteredEvents(BEFORE_KILL);
    const outage = userRegisteredEvents(DURING_OUTAGE);
    const late = userRegisteredEvents(AFTER_RESTART);
    const all = [...flow, ...outage, ...late];

    // The producer: user-service's outbox gets a committed batch every 100 ms, whatever the broker does.
    let committed = 0;
    const producing = (async () => {
      for (let i = 0; i < flow.length; i += BATCH) {
        await commitOutboxRows(userDb, flow.slice(i, i + BATCH));
        committed += Math.min(BATCH, flow.length - i);
        await sleep(100);
      }
    })();

    // Kill mid-flow: some events already processed, a backlog committed but not yet processed.
    const atKill = await waitFor(
      async () => {
        const processed = await processedCount(integrationDb);
        return processed >= 200 && committed - processed >= 100 && { processed, committed };
      },
      { timeoutMs: 60_000, intervalMs: 20, description: 'events to flow with a backlog in flight' },
    );
    await broker.kill();

    // Both services notice (readiness fails) and keep running; the business keeps committing.
    await producing;
    for (let i = 0; i < outage.length; i += BATCH) await commitOutboxRows(userDb, outage.slice(i, i + BATCH));
    await waitFor(async () => !(await users.ready()), {
      timeoutMs: 20_000,
      description: 'user-service unready',
    });
    await waitFor(async () => !(await integration.ready()), {
      timeoutMs: 20_000,
      description: 'integration-service unready',
    });
    // The relay tried to publish during the outage and kept the rows (attempts counted, not dropped).
    await waitFor(
      async () =>
        (
          await userDb.query(
            'SELECT 1 FROM outbox_events WHERE published_at IS NULL AND attempts > 0 AND last_error IS NOT NULL LIMIT 1',
          )
        ).rowCount === 1,
      { timeoutMs: 20_000, description: 'a failed publish recorded in the outbox' },
    );
    const committedDuringOutage = committed - atKill.committed + outage.length;

    await broker.start();
    await commitOutboxRows(userDb, late);

    await waitFor(async () => (await users.ready()) && (await integration.ready()), {
      timeoutMs: 90_000,
      intervalMs: 250,
      description: 'both services to reconnect',
    });
    await waitFor(async () => (await processedCount(integrationDb)) >= all.length, {
      timeoutMs: 150_000,
      intervalMs: 250,
      description: `all ${all.length} events to be processed`,
    });
    // A late redelivery would show up here as a second copy: give one a moment to arrive.
    await sleep(2_000);

    expect(atKill.processed).toBeLessThan(atKill.committed);
    const ids = all.map((event) => event.id);
    expect(await unpublishedCount(userDb, ids)).toBe(0);
    const copies = await recordedCopies(integrationDb);
    expect(notExactlyOnce(ids, copies.platformEvents)).toEqual([]);
    expect(notExactlyOnce(ids, copies.processed)).toEqual([]);
    // The other side effect, the users' event logs in Redis (its own queue): one entry per user.
    expect(await eventLogLengths(all.map((event) => event.subject!))).toEqual({ 1: all.length });

    // Nothing was dead-lettered on the way.
    const probe = await AmqpProbe.open(broker.url);
    try {
      const prefix = testAmqp().queuePrefix;
      expect(await probe.messageCount(`${prefix}integration-service.platform-events.dlq`)).toBe(0);
      expect(await probe.messageCount(`${prefix}integration-service.platform-events`)).toBe(0);
    } finally {
      await probe.close();
    }

    // Reconnected by themselves: one process each, still running, a disconnect then a second connect.
    for (const service of [users, integration]) {
      expect(service.processes).toHaveLength(1);
      expect(service.service.process.exitCode).toBeNull();
      expect(service.lines('event bus disconnected; reconnecting').length).toBeGreaterThanOrEqual(1);
      expect(service.lines('event bus connected').length).toBeGreaterThanOrEqual(2);
    }
    const duplicatesSkipped = integration
      .lines('duplicate event skipped')
      .filter((line) => line['consumer'] === 'integration-service.platform-events').length;
    process.stdout.write(
      `[fault-tests] broker kill: ${all.length} events, killed at ${atKill.processed}/${atKill.committed} ` +
        `processed/committed, ${committedDuringOutage} committed during the outage, ` +
        `${duplicatesSkipped} redelivered duplicates skipped\n`,
    );
  });
});

/** XLEN of each user's event-log stream (integration-service's Redis keys), as { length: users }. */
async function eventLogLengths(userIds: string[]): Promise<Record<number, number>> {
  const redis = new Redis(process.env['REDIS_URL'] || 'redis://127.0.0.1:6379');
  try {
    const prefix = testRedisPrefix().prefix;
    const pipeline = redis.pipeline();
    for (const id of userIds) pipeline.xlen(`${prefix}events:{${id}}`);
    const results = (await pipeline.exec()) ?? [];
    const histogram: Record<number, number> = {};
    for (const [error, length] of results) {
      if (error) throw error;
      histogram[length as number] = (histogram[length as number] ?? 0) + 1;
    }
    return histogram;
  } finally {
    redis.disconnect();
  }
}
