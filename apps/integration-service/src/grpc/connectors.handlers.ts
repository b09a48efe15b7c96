import type { AsyncHandlers, teIntegrationV1 } from '@te/grpc';
import type { ConnectorSettings } from '../connectors/connector.js';
import {
  createConnector,
  deleteConnector,
  getConnector,
  listConnectorDeliveries,
  listConnectors,
  testConnector,
  updateConnector,
  type ConnectorDeps,
} from '../domain/connectors.use-cases.js';
import { callerId } from './caller.js';
import { connectorDeliveryMessage, connectorMessage } from './connector-messages.js';

const settingsOf = (settings: teIntegrationV1.ConnectorSettings__Output): ConnectorSettings => ({
  ...(settings.url && { url: settings.url }),
  ...(settings.authHeader && { auth_header: settings.authHeader }),
});

/** te.integration.v1.Connectors: thin translation between the contract and the use cases. */
export function connectorHandlers(deps: ConnectorDeps): AsyncHandlers<teIntegrationV1.ConnectorsHandlers> {
  return {
    async CreateConnector(request, ctx) {
      const connector = await createConnector(
        callerId(ctx),
        {
          kind: request.kind,
          name: request.name,
          eventTypes: request.eventTypes,
          settings: request.settings ? settingsOf(request.settings) : {},
          credential: request.credential,
          ...(request.enabled !== undefined && { enabled: request.enabled }),
        },
        deps,
      );
      return { connector: connectorMessage(connector) };
    },

    async ListConnectors(_request, ctx) {
      return { connectors: (await listConnectors(callerId(ctx), deps)).map(connectorMessage) };
    },

    async GetConnector(request, ctx) {
      return { connector: connectorMessage(await getConnector(callerId(ctx), request.id, deps)) };
    },

    async UpdateConnector(request, ctx) {
      const connector = await updateConnector(
        callerId(ctx),
        request.id,
        {
          ...(request.name !== undefined && { name: request.name }),
          ...(request.setEventTypes && { eventTypes: request.eventTypes }),
          ...(request.enabled !== undefined && { enabled: request.enabled }),
          ...(request.settings && { settings: settingsOf(request.settings) }),
          ...(request.credential !== undefined && { credential: request.credential }),
        },
        deps,
      );
      return { connector: connectorMessage(connector) };
    },

    async DeleteConnector(request, ctx) {
      await deleteConnector(callerId(ctx), request.id, deps);
      return {};
    },

    async TestConnector(request, ctx) {
      return { delivery: connectorDeliveryMessage(await testConnector(callerId(ctx), request.id, deps)) };
    },

    async ListConnectorDeliveries(request, ctx) {
      const page = await listConnectorDeliveries(
        callerId(ctx),
        request.connectorId,
        { pageSize: request.pageSize, pageToken: request.pageToken },
        deps,
      );
      return { deliveries: page.items.map(connectorDeliveryMessage), nextPageToken: page.nextPageToken };
    },
  };
}
