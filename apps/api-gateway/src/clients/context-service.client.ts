import {
  callUnary,
  createGrpcClient,
  loadProtos,
  type CallUnaryOptions,
  type GrpcClientOptions,
  type RequestOf,
} from '@te/grpc';

/**
 * context-service over gRPC (proto/te/context/v1/context.proto): the caller's conversation sessions and
 * messages. The principal travels in metadata; the service acts on it, never on an id in a request.
 */
export function createContextServiceClient(address: string, options: GrpcClientOptions) {
  const client = createGrpcClient(loadProtos().te.context.v1.ContextService, address, options);
  type Req<M extends keyof typeof client> = RequestOf<typeof client, M>;

  return {
    sessions: {
      create: (request: Req<'CreateSession'>) => callUnary(client, 'CreateSession', request),
      list: (request: Req<'ListSessions'>) => callUnary(client, 'ListSessions', request),
      get: (id: string) => callUnary(client, 'GetSession', { id }),
      update: (request: Req<'UpdateSession'>) => callUnary(client, 'UpdateSession', request),
      delete: (id: string) => callUnary(client, 'DeleteSession', { id }),
    },
    messages: {
      post: (request: Req<'PostMessage'>) => callUnary(client, 'PostMessage', request),
      list: (request: Req<'ListMessages'>) => callUnary(client, 'ListMessages', request),
    },
    attachments: {
      // Unary: the whole file in one message (grpc-js sends any size; context-service's receive limit decides).
      upload: (request: Req<'UploadAttachment'>, options?: CallUnaryOptions) =>
        callUnary(client, 'UploadAttachment', request, options),
      get: (sessionId: string, attachmentId: string) =>
        callUnary(client, 'GetAttachment', { sessionId, attachmentId }),
    },
    close: () => client.close(),
  };
}

export type ContextServiceClient = ReturnType<typeof createContextServiceClient>;
