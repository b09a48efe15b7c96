import type { EventEnvelope } from '@te/events';
import type { Logger } from '@te/platform';
import { ownerOf, USER_VISIBLE_EVENT_TYPES } from '../events/user-visible-events.js';
import type { EventLog } from './event-log.js';

/** Its own queue: the webhook deliveries consume the same events from theirs (each gets a copy). */
export const EVENT_LOG_QUEUE = 'integration-service.event-stream';
export const EVENT_LOG_BINDINGS = [...USER_VISIBLE_EVENT_TYPES, 'user.deleted'];

/**
 * Appends each user-visible event to its owner's log (once: the log recognises a redelivered event
 * id) and erases a deleted user's log. Events without an owner are acknowledged and ignored.
 */
export function eventLogConsumer(log: EventLog, logger: Logger): (event: EventEnvelope) => Promise<void> {
  return async (event) => {
    if (event.type === 'user.deleted') {
      const userId = (event.data as { user_id?: unknown } | null)?.user_id;
      if (typeof userId !== 'string' || userId === '') {
        logger.warn('user.deleted without user_id ignored', { event_id: event.id });
        return;
      }
      await log.deleteUser(userId.toLowerCase());
      logger.info('event log erased', { event_id: event.id });
      return;
    }
    const owner = ownerOf(event);
    if (!owner) {
      logger.debug('event without owner not logged', { event_id: event.id, type: event.type });
      return;
    }
    const streamId = await log.append(owner.toLowerCase(), {
      id: event.id,
      type: event.type,
      occurredAt: event.time,
      dataJson: JSON.stringify(event.data ?? null),
    });
    if (!streamId) logger.debug('event already in the log', { event_id: event.id, type: event.type });
  };
}
