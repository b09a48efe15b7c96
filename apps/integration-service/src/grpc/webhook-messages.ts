import type { teIntegrationV1 } from '@te/grpc';
import type { DeliveryView } from '../domain/webhook-deliveries.use-cases.js';
import type { WebhookEndpointView } from '../domain/webhook-endpoints.use-cases.js';

const iso = (date: Date | null | undefined) => date?.toISOString() ?? '';

export function endpointMessage(endpoint: WebhookEndpointView): teIntegrationV1.WebhookEndpoint {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason ?? '',
    disabledAt: iso(endpoint.disabledAt),
    previousSecretExpiresAt: iso(endpoint.previousSecretExpiresAt),
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
  };
}

export function deliveryMessage(delivery: DeliveryView): teIntegrationV1.WebhookDelivery {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId ?? '',
    messageId: delivery.messageId,
    eventId: delivery.eventId ?? '',
    eventType: delivery.eventType,
    payloadJson: delivery.payload,
    status: delivery.status,
    nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : '',
    createdAt: iso(delivery.createdAt),
    attempts: delivery.attempts.map((attempt) => ({
      id: attempt.id,
      sequence: attempt.sequence,
      attempt: attempt.attempt,
      attemptedAt: iso(attempt.attemptedAt),
      responseStatus: attempt.responseStatus ?? 0,
      latencyMs: attempt.latencyMs,
      responseExcerpt: attempt.responseExcerpt ?? '',
      errorClass: attempt.errorClass ?? '',
      errorMessage: attempt.errorMessage ?? '',
      succeeded: attempt.succeeded,
    })),
  };
}
