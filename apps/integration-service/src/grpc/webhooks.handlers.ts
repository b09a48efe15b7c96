import type { AsyncHandlers, teIntegrationV1 } from '@te/grpc';
import {
  getDelivery,
  listDeliveries,
  replayDelivery,
  sendTestEvent,
  type WebhookDeliveryDeps,
} from '../domain/webhook-deliveries.use-cases.js';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpointDeps,
} from '../domain/webhook-endpoints.use-cases.js';
import { callerId } from './caller.js';
import { deliveryMessage, endpointMessage } from './webhook-messages.js';

/** te.integration.v1.Webhooks: thin translation between the contract and the use cases. */
export function webhookHandlers(
  deps: WebhookEndpointDeps & WebhookDeliveryDeps,
): AsyncHandlers<teIntegrationV1.WebhooksHandlers> {
  return {
    async CreateWebhookEndpoint(request, ctx) {
      const created = await createEndpoint(
        callerId(ctx),
        {
          url: request.url,
          eventTypes: request.eventTypes,
          description: request.description,
          ...(request.enabled !== undefined && { enabled: request.enabled }),
        },
        deps,
      );
      return { endpoint: endpointMessage(created.endpoint), secret: created.secret };
    },

    async ListWebhookEndpoints(_request, ctx) {
      return { endpoints: (await listEndpoints(callerId(ctx), deps)).map(endpointMessage) };
    },

    async GetWebhookEndpoint(request, ctx) {
      return { endpoint: endpointMessage(await getEndpoint(callerId(ctx), request.id, deps)) };
    },

    async UpdateWebhookEndpoint(request, ctx) {
      const endpoint = await updateEndpoint(
        callerId(ctx),
        request.id,
        {
          ...(request.url !== undefined && { url: request.url }),
          ...(request.setEventTypes && { eventTypes: request.eventTypes }),
          ...(request.description !== undefined && { description: request.description }),
          ...(request.enabled !== undefined && { enabled: request.enabled }),
        },
        deps,
      );
      return { endpoint: endpointMessage(endpoint) };
    },

    async DeleteWebhookEndpoint(request, ctx) {
      await deleteEndpoint(callerId(ctx), request.id, deps);
      return {};
    },

    async RotateWebhookSecret(request, ctx) {
      const rotated = await rotateSecret(callerId(ctx), request.id, deps);
      return { endpoint: endpointMessage(rotated.endpoint), secret: rotated.secret };
    },

    async ListWebhookDeliveries(request, ctx) {
      const page = await listDeliveries(
        callerId(ctx),
        request.endpointId,
        { pageSize: request.pageSize, pageToken: request.pageToken },
        deps,
      );
      return { deliveries: page.items.map(deliveryMessage), nextPageToken: page.nextPageToken };
    },

    async GetWebhookDelivery(request, ctx) {
      const delivery = await getDelivery(callerId(ctx), request.endpointId, request.deliveryId, deps);
      return { delivery: deliveryMessage(delivery) };
    },

    async ReplayWebhookDelivery(request, ctx) {
      const delivery = await replayDelivery(callerId(ctx), request.endpointId, request.deliveryId, deps);
      return { delivery: deliveryMessage(delivery) };
    },

    async SendTestWebhook(request, ctx) {
      return { delivery: deliveryMessage(await sendTestEvent(callerId(ctx), request.id, deps)) };
    },
  };
}
