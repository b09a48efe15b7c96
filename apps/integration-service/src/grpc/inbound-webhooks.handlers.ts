import type { AsyncHandlers, teIntegrationV1 } from '@te/grpc';
import { receiveWebhook, type ReceiveWebhookDeps } from '../inbound/receive-webhook.use-case.js';

/** te.integration.v1.InboundWebhooks: thin translation between the contract and the use case. */
export function inboundWebhookHandlers(
  deps: ReceiveWebhookDeps,
): AsyncHandlers<teIntegrationV1.InboundWebhooksHandlers> {
  return {
    async ReceiveWebhook(request) {
      const result = await receiveWebhook(
        { source: request.source, headers: request.headers, body: request.body },
        deps,
      );
      return { messageId: result.messageId, duplicate: result.duplicate };
    },
  };
}
