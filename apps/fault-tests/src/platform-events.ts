import { randomUUID } from 'node:crypto';
import { createEvent, type EventEnvelope } from '@te/events';
import type pg from 'pg';
import { PLATFORM_EVENTS_CONSUMER } from './fault-service.js';

/**
 * `user.registered` envelopes as user-service writes them (docs/events.md), for fresh user ids: every
 * one is recorded by integration-service in `platform_events` and appended to that user's event log.
 */
export function userRegisteredEvents(count: number): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) => {
    const userId = randomUUID();
    return createEvent({
      type: 'user.registered',
      source: 'user-service',
      subject: userId,
      data: {
        user_id: userId,
        email: `fault-${i}-${userId.slice(0, 8)}@example.test`,
        name: `Fault ${i}`,
        roles: ['user'],
        registered_at: new Date().toISOString(),
      },
    });
  });
}

/**
 * Commits outbox rows in one transaction, exactly as `enqueueEvent` writes them, into the database of a
 * service whose own relay is running: the relay, the broker, the consumer and its idempotency are the
 * system under test (a registration costs an argon2 hash; thousands of them would take minutes here).
 */
export async function commitOutboxRows(pool: pg.Pool, events: EventEnvelope[]): Promise<void> {
  await pool.query(
    `INSERT INTO outbox_events (id, type, envelope)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`,
    [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
  );
}

/** What integration-service's platform-events consumer has committed (its processed_events rows). */
export async function processedCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1',
    [PLATFORM_EVENTS_CONSUMER],
  );
  return rows[0].n;
}

/** Event id → how many rows integration-service holds for it, in platform_events and processed_events. */
export async function recordedCopies(
  pool: pg.Pool,
): Promise<{ platformEvents: Map<string, number>; processed: Map<string, number> }> {
  const platform = await pool.query<{ id: string; n: number }>(
    'SELECT id::text AS id, count(*)::int AS n FROM platform_events GROUP BY id',
  );
  const processed = await pool.query<{ id: string; n: number }>(
    'SELECT event_id::text AS id, count(*)::int AS n FROM processed_events WHERE consumer = $1 GROUP BY event_id',
    [PLATFORM_EVENTS_CONSUMER],
  );
  return {
    platformEvents: new Map(platform.rows.map((row) => [row.id, row.n])),
    processed: new Map(processed.rows.map((row) => [row.id, row.n])),
  };
}

/** Ids recorded more or less than once, or recorded without having been sent: empty when exactly once. */
export function notExactlyOnce(sent: string[], copies: Map<string, number>): string[] {
  const expected = new Set(sent);
  const wrong = sent.filter((id) => copies.get(id) !== 1).map((id) => `${id}×${copies.get(id) ?? 0}`);
  for (const id of copies.keys()) if (!expected.has(id)) wrong.push(`${id} (never sent)`);
  return wrong;
}

/** The outbox rows of these events not yet marked published. */
export async function unpublishedCount(pool: pg.Pool, ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox_events WHERE id = ANY($1::uuid[]) AND published_at IS NULL',
    [ids],
  );
  return rows[0].n;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
