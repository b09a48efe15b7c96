import { idempotent, type EventEnvelope } from '@te/events';
import type { Logger } from '@te/platform';
import type { IntegrationDb } from '../db/prisma-client.js';
import { PlatformEventRepository } from '../db/platform-event.repository.js';

/** The event types this service records (routing keys bound to its queue). */
export const CONSUMED_EVENT_TYPES = ['user.registered'];

export const CONSUMER_NAME = 'integration-service.platform-events';

/**
 * Records each platform event once (redeliveries are recognised by event id) in the event log that
 * outbound webhooks and event streams read from.
 */
export function platformEventConsumer(
  db: IntegrationDb,
  logger: Logger,
): (event: EventEnvelope) => Promise<void> {
  return idempotent(
    db,
    CONSUMER_NAME,
    async (tx, event) => {
      await new PlatformEventRepository(tx).record(event);
    },
    { logger },
  );
}
