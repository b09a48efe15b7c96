import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import { captureLogger, createMetrics } from '@te/platform';
import { waitFor } from '@te/testing';
import { PLATFORM_EVENTS_CONSUMER, type FaultService } from '../src/fault-service.js';
import type { OwnBroker } from '../src/own-broker.js';
import {
  commitOutboxRows,
  notExactlyOnce,
  recordedCopies,
  sleep,
  unpublishedCount,
  userRegisteredEvents,
} from '../src/platform-events.js';
import { ownBrokerScenario } from '../src/scenario-setup.js';

const RELAY_BULK = 2000;

/**
 * The producer crashes with committed events not (or not known to be) published. user-service's
 * outbox relay and integration-service's consumer, on a broker of the test's own.
 */
describe('Scenario 4: a crash between the database commit and the publish', () => {
  const scenario = ownBrokerScenario('04-crash-before-publish', 'outbox', 2);
  let broker: OwnBroker;
  let users: FaultService;
  let integration: FaultService;
  let userDb: pg.Pool;
  let integrationDb: pg.Pool;
  beforeAll(() => ({ broker, users, integration, userDb, integrationDb } = scenario));

  it('When user-service is killed after a registration committed but before its event was published, then the restarted service publishes it and the consumer records it once', async () => {
    // The broker is down, so the relay cannot publish what the registration commits.
    await broker.kill();
    await waitFor(async () => !(await users.ready()), {
      timeoutMs: 20_000,
      description: 'user-service unready',
    });

    const registered = await register(users.address, {
      email: `fault-${randomUUID().slice(0, 8)}@example.test`,
      password: 'crash-before-publish 42!',
      name: 'Fault Four',
    });
    const userId = registered.user!.id;
    // Committed: the user and its event, in one transaction. The relay tried and kept the row.
    const outbox = await waitFor(
      async () => {
        const row = await outboxRowFor(userId);
        return row && row.attempts > 0 && row;
      },
      { timeoutMs: 20_000, description: 'the relay to try to publish and fail' },
    );
    expect(outbox.published_at).toBeNull();
    expect((await userDb.query('SELECT 1 FROM users WHERE id = $1::uuid', [userId])).rowCount).toBe(1);

    const crashed = users.service;
    await users.kill();
    expect(crashed.process.signalCode).toBe('SIGKILL');

    await broker.start();
    await waitFor(() => integration.ready(), {
      timeoutMs: 90_000,
      intervalMs: 250,
      description: 'integration-service to reconnect',
    });
    // Nobody else publishes the row: it waits for its own service.
    await sleep(1_000);
    expect((await outboxRowFor(userId))!.published_at).toBeNull();
    expect(await recordedFor(outbox.id)).toEqual({ processed: 0, platformEvents: 0 });

    await users.start();
    await waitFor(async () => (await recordedFor(outbox.id)).processed === 1, {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: 'the event to be recorded by integration-service',
    });
    await sleep(1_000);

    expect(await recordedFor(outbox.id)).toEqual({ processed: 1, platformEvents: 1 });
    const { rows } = await integrationDb.query(
      'SELECT type, subject FROM platform_events WHERE id = $1::uuid',
      [outbox.id],
    );
    expect(rows).toEqual([{ type: 'user.registered', subject: userId }]);
    expect((await outboxRowFor(userId))!.published_at).not.toBeNull();
    const published = (n: number) =>
      users.processes[n]
        .logLines()
        .filter((line) => line['message'] === 'event published' && line['event_id'] === outbox.id);
    expect(published(0)).toEqual([]);
    expect(published(1)).toHaveLength(1);
  });

  it(`When user-service is killed while its relay publishes ${RELAY_BULK} committed events, then after a restart each is recorded exactly once`, async () => {
    const events = userRegisteredEvents(RELAY_BULK);
    const ids = events.map((event) => event.id);
    const idSet = new Set(ids);
    await commitOutboxRows(userDb, events);
    // Kill inside a batch: the broker has confirmed rows (the bus logged them published) that the
    // relay's transaction has not yet marked. The relay marks a batch of 100 row by row before it
    // commits, so this window is open for a while in each batch.
    const relay = users.service;
    const confirmedBy = (lines: Record<string, unknown>[]) =>
      new Set(
        lines
          .filter((line) => line['message'] === 'event published' && idSet.has(line['event_id'] as string))
          .map((line) => line['event_id'] as string),
      );
    const markedAtKill = await waitFor(
      async () => {
        const marked = RELAY_BULK - (await unpublishedCount(userDb, ids));
        return marked >= 200 && confirmedBy(relay.logLines()).size > marked && marked;
      },
      { timeoutMs: 60_000, intervalMs: 1, description: 'the relay to be inside a batch' },
    );
    await users.kill();
    // Published by the dead process, never marked: the new relay publishes these again.
    const unmarked = new Set(
      (
        await userDb.query<{ id: string }>(
          'SELECT id::text AS id FROM outbox_events WHERE id = ANY($1::uuid[]) AND published_at IS NULL',
          [ids],
        )
      ).rows.map((row) => row.id),
    );
    const publishedTwice = [...confirmedBy(relay.logLines())].filter((id) => unmarked.has(id));
    expect(markedAtKill).toBeLessThan(RELAY_BULK);
    expect(publishedTwice.length).toBeGreaterThan(0);

    await users.start();
    await waitFor(async () => (await unpublishedCount(userDb, ids)) === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'the restarted relay to publish the rest',
    });
    await waitFor(
      async () => {
        const copies = await recordedCopies(integrationDb);
        return ids.every((id) => copies.processed.has(id));
      },
      { timeoutMs: 120_000, intervalMs: 500, description: `all ${RELAY_BULK} events to be recorded` },
    );
    await sleep(2_000);

    const copies = await recordedCopies(integrationDb);
    const mine = (map: Map<string, number>) => new Map([...map].filter(([id]) => ids.includes(id)));
    expect(notExactlyOnce(ids, mine(copies.platformEvents))).toEqual([]);
    expect(notExactlyOnce(ids, mine(copies.processed))).toEqual([]);
    // The consumer saw each of those twice and skipped the second copy.
    const duplicates = integration
      .lines('duplicate event skipped')
      .filter(
        (line) => line['consumer'] === PLATFORM_EVENTS_CONSUMER && idSet.has(line['event_id'] as string),
      ).length;
    expect(duplicates).toBeGreaterThanOrEqual(publishedTwice.length);
    process.stdout.write(
      `[fault-tests] relay crash: ${RELAY_BULK} events, killed with ${markedAtKill} marked published and ` +
        `${publishedTwice.length} confirmed but unmarked; ${duplicates} duplicates skipped by the consumer\n`,
    );
  });

  async function register(address: string, request: { email: string; password: string; name: string }) {
    const client = createGrpcClient(loadProtos().te.user.v1.UserService, address, {
      logger: captureLogger('fault-tests').logger,
      metrics: createMetrics({ service: 'fault-tests', defaultMetrics: false }),
      deadlineMs: 30_000,
    });
    try {
      return await callUnary(client, 'Register', request);
    } finally {
      client.close();
    }
  }

  async function outboxRowFor(
    userId: string,
  ): Promise<{ id: string; attempts: number; published_at: Date | null } | undefined> {
    const { rows } = await userDb.query(
      `SELECT id::text AS id, attempts, published_at FROM outbox_events
       WHERE type = 'user.registered' AND envelope->>'subject' = $1`,
      [userId],
    );
    return rows[0];
  }

  async function recordedFor(eventId: string): Promise<{ processed: number; platformEvents: number }> {
    const { rows } = await integrationDb.query<{ processed: number; platform_events: number }>(
      `SELECT (SELECT count(*)::int FROM processed_events WHERE consumer = $2 AND event_id = $1::uuid) AS processed,
              (SELECT count(*)::int FROM platform_events WHERE id = $1::uuid) AS platform_events`,
      [eventId, PLATFORM_EVENTS_CONSUMER],
    );
    return { processed: rows[0].processed, platformEvents: rows[0].platform_events };
  }
});
