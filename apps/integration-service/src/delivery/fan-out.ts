import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@te/events';
import { ConnectorRepository } from '../db/connector.repository.js';
import { WebhookDeliveryRepository } from '../db/webhook-delivery.repository.js';
import { WebhookEndpointRepository, type Queryable } from '../db/webhook-endpoint.repository.js';
import { isUuid, subscribes } from '../domain/webhook-endpoint.policy.js';
import { ownerOf } from '../events/user-visible-events.js';

/** The body of every attempt, per Standard Webhooks: `{ type, timestamp, data }`, serialised once. */
export function webhookPayload(type: string, timestamp: string, data: unknown): string {
  return JSON.stringify({ type, timestamp, data });
}

/** One message id per event (`msg_` + its id): the same webhook-id at every endpoint, on every retry. */
export function messageIdOf(eventId: string): string {
  return `msg_${eventId.replaceAll('-', '')}`;
}

/**
 * In the transaction that records the event: one pending delivery per enabled endpoint and per
 * enabled connector (decision 0024) of the event's owner subscribed to its type, due after the
 * schedule's first step. Returns how many.
 */
export async function fanOutEvent(
  tx: Queryable,
  event: EventEnvelope,
  firstAttemptAt: Date,
): Promise<number> {
  const owner = ownerOf(event);
  if (!owner || !isUuid(owner)) return 0;
  const endpoints = (await new WebhookEndpointRepository(tx).enabledForUser(owner)).filter((endpoint) =>
    subscribes(endpoint.eventTypes, event.type),
  );
  const connectors = (await new ConnectorRepository(tx).enabledForUser(owner)).filter((connector) =>
    subscribes(connector.eventTypes, event.type),
  );
  const delivery = {
    userId: owner,
    messageId: messageIdOf(event.id),
    eventId: event.id,
    eventType: event.type,
    payload: webhookPayload(event.type, event.time, event.data),
    nextAttemptAt: firstAttemptAt,
  };
  return new WebhookDeliveryRepository(tx).createMany([
    ...endpoints.map((endpoint) => ({ id: randomUUID(), endpointId: endpoint.id, ...delivery })),
    ...connectors.map((connector) => ({ id: randomUUID(), connectorId: connector.id, ...delivery })),
  ]);
}
