import { idempotent, type EventEnvelope } from '@te/events';
import type { Logger } from '@te/platform';
import { fanOutEvent } from '../delivery/fan-out.js';
import type { IntegrationDb } from '../db/prisma-client.js';
import { PlatformEventRepository } from '../db/platform-event.repository.js';
import { eraseUserWebhooks, USER_DELETED } from '../domain/erase-user-webhooks.use-case.js';
import { USER_VISIBLE_EVENT_TYPES } from './user-visible-events.js';

/**
 * The event types this service records (routing keys bound to its queue): every user-visible one
 * (outbound webhooks) and `user.deleted` (erasure).
 */
export const CONSUMED_EVENT_TYPES: string[] = [...USER_VISIBLE_EVENT_TYPES, USER_DELETED];

export const CONSUMER_NAME = 'integration-service.platform-events';

export interface PlatformEventConsumerOptions {
  /** Delay of a new delivery's first attempt (WEBHOOK_RETRY_SCHEDULE[0]). */
  firstAttemptDelayMs?: number;
  /** Called after a transaction that created deliveries committed (wakes the dispatcher). */
  onDeliveriesCreated?: () => void;
}

/**
 * Records each platform event once (redeliveries are recognised by event id) in the event log that
 * outbound webhooks and event streams read from, and, in the same transaction, one webhook delivery
 * per matching endpoint of the event's owner. `user.deleted` erases the user's webhooks instead.
 */
export function platformEventConsumer(
  db: IntegrationDb,
  logger: Logger,
  options: PlatformEventConsumerOptions = {},
): (event: EventEnvelope) => Promise<void> {
  return async (event) => {
    // Per delivery of a message: handlers run concurrently (prefetch), so nothing is shared.
    let created = 0;
    await idempotent(
      db,
      CONSUMER_NAME,
      async (tx, delivered) => {
        if (delivered.type === USER_DELETED) {
          await eraseUserWebhooks(tx, delivered, logger);
          return;
        }
        await new PlatformEventRepository(tx).record(delivered);
        const firstAttemptAt = new Date(Date.now() + (options.firstAttemptDelayMs ?? 0));
        created = await fanOutEvent(tx, delivered, firstAttemptAt);
      },
      { logger },
    )(event);
    if (created > 0) options.onDeliveriesCreated?.();
  };
}
