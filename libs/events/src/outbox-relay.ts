import { AppError, type Logger, type Metrics } from '@te/platform';
import { backoffDelay } from './backoff.js';
import type { EventEnvelope } from './event-envelope.js';
import type { EventPublisher } from './event-bus.js';
import type { SqlExecutor, TransactionalSqlExecutor } from './sql-executor.js';

export interface OutboxRelayOptions {
  db: TransactionalSqlExecutor;
  bus: EventPublisher;
  logger: Logger;
  /** Accepted for the shared constructor shape; every publish is already counted by the bus. */
  metrics?: Metrics;
  /** How often to look for rows when not notified (default 500 ms). */
  pollIntervalMs?: number;
  /** Rows claimed per transaction (default 100). */
  batchSize?: number;
  /** Back-off of a row whose publish failed: `baseMs` doubling up to `maxMs` (default 1 s → 5 min). */
  retryBackoff?: { baseMs?: number; maxMs?: number };
  /** Interactive-transaction timeout for one batch (default 30 s; Prisma's own default is 5 s). */
  transactionTimeoutMs?: number;
}

interface OutboxRow {
  id: string;
  envelope: EventEnvelope | string;
  attempts: number;
}

// SKIP LOCKED: replicas claim disjoint rows instead of waiting on each other; a row stays locked until
// its batch commits, so it is never published by two relays. (created_at, id) keeps creation order
// (ids are uuid v7) within one relay; ordering across replicas or after a failure is not guaranteed.
const CLAIM = `SELECT id::text AS id, envelope, attempts FROM outbox_events
  WHERE published_at IS NULL AND next_attempt_at <= now()
  ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`;
// One statement for the whole batch's published rows (not one round trip per row).
const MARK_PUBLISHED = `UPDATE outbox_events SET published_at = clock_timestamp()
  WHERE id = ANY($1::text[]::uuid[])`;
// Published, but no queue is bound to its type: nobody subscribes (yet). Kept as published, with why.
const MARK_UNROUTED = `UPDATE outbox_events SET published_at = clock_timestamp(), last_error = $2
  WHERE id = $1::uuid`;
const MARK_FAILED = `UPDATE outbox_events SET attempts = attempts + 1, last_error = $3,
  next_attempt_at = clock_timestamp() + make_interval(secs => $2::float8 / 1000) WHERE id = $1::uuid`;

/**
 * Publishes committed outbox rows: polls, or runs at once when notified; claims a batch in a
 * transaction, publishes each row (waiting for the broker's confirm) and marks it published in the
 * same transaction. A crash between publish and commit republishes the row later: delivery is
 * at-least-once, consumers are idempotent. A row whose publish fails gets `attempts + 1`, a growing
 * `next_attempt_at` and `last_error`, and is tried again later; no row is ever dropped.
 *
 * One exception to retrying: a publish the broker returns as unroutable (no queue bound to the event
 * type) reached RabbitMQ and was delivered to zero subscribers, which is what publish/subscribe means
 * for an event nobody consumes yet. Retrying it would keep it in the outbox forever. Such a row is
 * marked published with `last_error` saying so, and logged (and counted by the bus as `unroutable`).
 * A consumer receives the events published after its queue exists.
 */
export class OutboxRelay {
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private loop?: Promise<void>;
  private stopping = false;
  private notified = false;
  private wake?: () => void;

  constructor(private readonly options: OutboxRelayOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.batchSize = options.batchSize ?? 100;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Publish now rather than at the next poll (call it after committing a transaction that enqueued). */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  /** Stops polling; resolves once the batch in progress (if any) has committed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** One claim → publish → mark cycle. Returns the rows claimed and published. */
  async relayBatch(): Promise<{ claimed: number; published: number }> {
    const { db, logger } = this.options;
    return db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRawUnsafe<OutboxRow[]>(CLAIM, this.batchSize);
        // Sent in claim order without waiting for each confirm (one round trip per batch, not per row);
        // each row's own confirm decides its fate.
        const results = await Promise.allSettled(
          rows.map(async (row) => this.options.bus.publish(envelopeOf(row))),
        );
        const published: string[] = [];
        for (const [i, result] of results.entries()) {
          if (result.status === 'fulfilled') {
            published.push(rows[i].id);
          } else if (isUnroutable(result.reason)) {
            await tx.$executeRawUnsafe(
              MARK_UNROUTED,
              rows[i].id,
              'unroutable: no queue is bound to this event type',
            );
            logger.warn('outbox event had no subscriber', { event_id: rows[i].id, type: typeOf(rows[i]) });
          } else {
            await this.markFailed(tx, rows[i], result.reason);
          }
        }
        if (published.length > 0) await tx.$executeRawUnsafe(MARK_PUBLISHED, published);
        if (rows.length > 0)
          logger.debug('outbox batch relayed', { claimed: rows.length, published: published.length });
        return { claimed: rows.length, published: published.length };
      },
      { timeout: this.options.transactionTimeoutMs ?? 30_000, maxWait: 10_000 },
    );
  }

  private async markFailed(tx: SqlExecutor, row: OutboxRow, error: unknown): Promise<void> {
    const attempts = Number(row.attempts) + 1;
    const { baseMs = 1000, maxMs = 300_000 } = this.options.retryBackoff ?? {};
    const delayMs = backoffDelay(attempts, { baseMs, maxMs });
    const message = (error as Error)?.message ?? String(error);
    await tx.$executeRawUnsafe(MARK_FAILED, row.id, delayMs, message.slice(0, 2000));
    this.options.logger.warn('outbox publish failed; will retry', {
      event_id: row.id,
      attempts,
      retry_in_ms: delayMs,
      error: message,
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let more = false;
      try {
        const { claimed, published } = await this.relayBatch();
        // A full, clean batch means more rows are probably waiting: go again without sleeping.
        more = claimed === this.batchSize && published === claimed;
        failures = 0;
      } catch (error) {
        failures += 1;
        this.options.logger.error('outbox relay batch failed', { error: (error as Error).message, failures });
      }
      if (!more && !this.stopping)
        await this.sleep(
          failures ? Math.min(this.pollIntervalMs * 2 ** failures, 30_000) : this.pollIntervalMs,
        );
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function envelopeOf(row: OutboxRow): EventEnvelope {
  return typeof row.envelope === 'string' ? (JSON.parse(row.envelope) as EventEnvelope) : row.envelope;
}

function isUnroutable(error: unknown): boolean {
  return error instanceof AppError && error.details?.['reason'] === 'unroutable';
}

function typeOf(row: OutboxRow): string {
  return envelopeOf(row).type;
}
