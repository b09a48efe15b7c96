import type { EventEnvelope } from '@te/events';
import type { Logger } from '@te/platform';
import { ConnectorRepository } from '../db/connector.repository.js';
import { WebhookDeliveryRepository } from '../db/webhook-delivery.repository.js';
import { WebhookEndpointRepository, type Queryable } from '../db/webhook-endpoint.repository.js';
import { isUuid } from './webhook-endpoint.policy.js';

export const USER_DELETED = 'user.deleted';

/**
 * `user.deleted` (GDPR art. 17): the user's endpoints with their secrets, connectors with their
 * credentials, their deliveries and attempts, and the user's events in the event log. Idempotent, and a no-op for a user never seen.
 */
export async function eraseUserWebhooks(tx: Queryable, event: EventEnvelope, logger: Logger): Promise<void> {
  const userId = (event.data as { user_id?: unknown } | null)?.user_id;
  if (typeof userId !== 'string' || !isUuid(userId)) {
    logger.warn('user.deleted without a usable user_id ignored', { event_id: event.id });
    return;
  }
  const id = userId.toLowerCase();
  const deliveries = await new WebhookDeliveryRepository(tx).deleteForUser(id);
  const endpoints = await new WebhookEndpointRepository(tx).deleteForUser(id);
  const connectors = await new ConnectorRepository(tx).deleteForUser(id);
  const events = await tx.$executeRawUnsafe(
    "DELETE FROM platform_events WHERE subject = $1 OR data->>'user_id' = $1",
    id,
  );
  logger.info('user webhooks erased', { user_id: id, endpoints, connectors, deliveries, events });
}
