import {
  callServerStream,
  callUnary,
  createGrpcClient,
  loadProtos,
  type GrpcClientOptions,
  type RequestOf,
  type StreamRequestOf,
} from '@te/grpc';

/**
 * integration-service over gRPC (proto/te/integration/v1/inbound.proto): signed webhook deliveries
 * from third parties. No principal: the sender's signature, checked by the service, is the
 * authentication.
 */
export function createIntegrationServiceClient(address: string, options: GrpcClientOptions) {
  const inbound = createGrpcClient(loadProtos().te.integration.v1.InboundWebhooks, address, options);
  // te.integration.v1.EventStream (events.proto): the caller's own events; the principal travels in metadata.
  const eventStream = createGrpcClient(loadProtos().te.integration.v1.EventStream, address, options);
  // te.integration.v1.Webhooks (webhooks.proto): the caller's outbound webhook endpoints; the principal
  // travels in metadata, and the service acts on the caller's endpoints only.
  const webhooks = createGrpcClient(loadProtos().te.integration.v1.Webhooks, address, options);
  type WebhooksReq<M extends keyof typeof webhooks> = RequestOf<typeof webhooks, M>;
  // te.integration.v1.Connectors (connectors.proto): the caller's Slack / HTTP connectors; the principal
  // travels in metadata, and the service acts on the caller's connectors only.
  const connectors = createGrpcClient(loadProtos().te.integration.v1.Connectors, address, options);
  type ConnectorsReq<M extends keyof typeof connectors> = RequestOf<typeof connectors, M>;

  return {
    inbound: {
      receive: (request: RequestOf<typeof inbound, 'ReceiveWebhook'>) =>
        callUnary(inbound, 'ReceiveWebhook', request),
    },
    events: {
      /**
       * StreamEvents: `opened`, the replay after `lastEventId`, then live events, until `signal` aborts
       * (the HTTP client went away) or `deadlineMs` (the stream's whole life) passes.
       */
      stream: (
        request: StreamRequestOf<typeof eventStream, 'StreamEvents'>,
        options: { deadlineMs: number; signal: AbortSignal },
      ) => callServerStream(eventStream, 'StreamEvents', request, options),
    },
    webhooks: {
      create: (request: WebhooksReq<'CreateWebhookEndpoint'>) =>
        callUnary(webhooks, 'CreateWebhookEndpoint', request),
      list: () => callUnary(webhooks, 'ListWebhookEndpoints', {}),
      get: (id: string) => callUnary(webhooks, 'GetWebhookEndpoint', { id }),
      update: (request: WebhooksReq<'UpdateWebhookEndpoint'>) =>
        callUnary(webhooks, 'UpdateWebhookEndpoint', request),
      delete: (id: string) => callUnary(webhooks, 'DeleteWebhookEndpoint', { id }),
      rotateSecret: (id: string) => callUnary(webhooks, 'RotateWebhookSecret', { id }),
      deliveries: (request: WebhooksReq<'ListWebhookDeliveries'>) =>
        callUnary(webhooks, 'ListWebhookDeliveries', request),
      delivery: (endpointId: string, deliveryId: string) =>
        callUnary(webhooks, 'GetWebhookDelivery', { endpointId, deliveryId }),
      replay: (endpointId: string, deliveryId: string) =>
        callUnary(webhooks, 'ReplayWebhookDelivery', { endpointId, deliveryId }),
      sendTest: (id: string) => callUnary(webhooks, 'SendTestWebhook', { id }),
    },
    connectors: {
      create: (request: ConnectorsReq<'CreateConnector'>) =>
        callUnary(connectors, 'CreateConnector', request),
      list: () => callUnary(connectors, 'ListConnectors', {}),
      get: (id: string) => callUnary(connectors, 'GetConnector', { id }),
      update: (request: ConnectorsReq<'UpdateConnector'>) =>
        callUnary(connectors, 'UpdateConnector', request),
      delete: (id: string) => callUnary(connectors, 'DeleteConnector', { id }),
      test: (id: string) => callUnary(connectors, 'TestConnector', { id }),
      deliveries: (request: ConnectorsReq<'ListConnectorDeliveries'>) =>
        callUnary(connectors, 'ListConnectorDeliveries', request),
    },
    close: () => {
      inbound.close();
      eventStream.close();
      webhooks.close();
      connectors.close();
    },
  };
}

export type IntegrationServiceClient = ReturnType<typeof createIntegrationServiceClient>;
