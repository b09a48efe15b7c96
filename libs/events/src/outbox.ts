import { parseEnvelope, type EventEnvelope } from './event-envelope.js';
import type { SqlExecutor } from './sql-executor.js';

/**
 * Writes the event to `outbox_events` with the caller's transaction, so it exists if and only if the
 * state change it describes commits. The OutboxRelay publishes it afterwards; call `relay.notify()`
 * after the commit to publish at once instead of at the next poll.
 */
export async function enqueueEvent(tx: SqlExecutor, event: EventEnvelope): Promise<void> {
  // Validate now: a row the relay could never publish would otherwise be retried forever.
  parseEnvelope(event);
  await tx.$executeRawUnsafe(
    'INSERT INTO outbox_events (id, type, envelope) VALUES ($1::uuid, $2, $3::jsonb)',
    event.id,
    event.type,
    JSON.stringify(event),
  );
}

/** Deletes rows published more than `olderThanMs` ago (a periodic maintenance job); returns the count. */
export function purgePublished(db: SqlExecutor, olderThanMs: number): Promise<number> {
  return db.$executeRawUnsafe(
    'DELETE FROM outbox_events WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::float8 / 1000)',
    olderThanMs,
  );
}

/**
 * Deletes dedup records older than `olderThanMs`. Keep them well past the longest time a message can be
 * redelivered (retry delays, DLQ replays), or a late duplicate would run twice.
 */
export function purgeProcessed(db: SqlExecutor, olderThanMs: number): Promise<number> {
  return db.$executeRawUnsafe(
    'DELETE FROM processed_events WHERE processed_at < now() - make_interval(secs => $1::float8 / 1000)',
    olderThanMs,
  );
}
