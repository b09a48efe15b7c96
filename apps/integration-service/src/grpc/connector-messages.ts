import type { teIntegrationV1 } from '@te/grpc';
import type { ConnectorRow } from '../db/connector.repository.js';
import type { DeliveryView } from '../domain/webhook-deliveries.use-cases.js';
import { deliveryMessage } from './webhook-messages.js';

const iso = (date: Date | null | undefined) => date?.toISOString() ?? '';

/** A connector as its owner sees it: settings and a hint, never the credential. */
export function connectorMessage(connector: ConnectorRow): teIntegrationV1.Connector {
  return {
    id: connector.id,
    kind: connector.kind,
    name: connector.name,
    eventTypes: connector.eventTypes,
    enabled: connector.enabled,
    settings: { url: connector.settings.url ?? '', authHeader: connector.settings.auth_header ?? '' },
    hasCredential: connector.credentialHint !== null,
    credentialHint: connector.credentialHint ?? '',
    disabledReason: connector.disabledReason ?? '',
    disabledAt: iso(connector.disabledAt),
    createdAt: iso(connector.createdAt),
    updatedAt: iso(connector.updatedAt),
  };
}

export function connectorDeliveryMessage(delivery: DeliveryView): teIntegrationV1.ConnectorDelivery {
  const { endpointId: _endpointId, ...message } = deliveryMessage(delivery);
  return { ...message, connectorId: delivery.connectorId ?? '' };
}
