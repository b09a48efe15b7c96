import type { Logger } from '@te/platform';
import type { EventEnvelope } from './event-envelope.js';
import type { EventHandler } from './event-bus.js';
import type { SqlExecutor, TransactionOptions, TransactionRunner } from './sql-executor.js';

export interface IdempotentOptions {
  logger?: Logger;
  /** Passed to `$transaction` (Prisma's default timeout is 5 s). */
  transaction?: TransactionOptions;
}

/**
 * Wraps a handler so that an event has exactly one effect per consumer, however often it is delivered:
 * one transaction first records (consumer, event_id) in `processed_events` and then runs the handler.
 * A duplicate finds the row and is skipped (and acked); a concurrent duplicate waits on the primary key
 * until the first commits, then skips. If the handler throws, the record rolls back with its effects
 * and the retry runs it again.
 *
 * `tx` is whatever the runner passes (with Prisma: the interactive-transaction client, fully typed).
 */
export function idempotent<Tx extends SqlExecutor, T = unknown>(
  db: TransactionRunner<Tx>,
  consumer: string,
  handler: (tx: Tx, event: EventEnvelope<T>) => Promise<void>,
  options: IdempotentOptions = {},
): EventHandler<T> {
  return async (event) => {
    await db.$transaction(async (tx) => {
      const inserted = await tx.$executeRawUnsafe(
        'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING',
        consumer,
        event.id,
      );
      if (inserted === 0) {
        options.logger?.debug('duplicate event skipped', { consumer, event_id: event.id, type: event.type });
        return;
      }
      await handler(tx, event);
    }, options.transaction);
  };
}
