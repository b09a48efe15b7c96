import {
  callServerStream,
  callUnary,
  createGrpcClient,
  loadProtos,
  type CallUnaryOptions,
  type GrpcClientOptions,
  type RequestOf,
  type StreamRequestOf,
} from '@te/grpc';

export interface ContextServiceClientOptions extends GrpcClientOptions {
  /**
   * Deadline of a reply (REPLY_DEADLINE_MS): PostMessage (a sync reply waits for inference) and the
   * whole PostMessageStream. Longer than context-service's Infer deadline, so its own
   * DEADLINE_EXCEEDED (with the user's message stored) reaches the caller rather than ours.
   */
  replyDeadlineMs?: number;
}

/** A whole download (a few MB at most) through a slow reader. */
export const CONTENT_DEADLINE_MS = 60_000;

/** 75 s: context-service's default Infer deadline (AI_GATEWAY_INFER_DEADLINE_MS) is 60 s. */
export const DEFAULT_REPLY_DEADLINE_MS = 75_000;

/**
 * context-service over gRPC (proto/te/context/v1/context.proto): the caller's conversation sessions and
 * messages. The principal travels in metadata; the service acts on it, never on an id in a request.
 */
export function createContextServiceClient(address: string, options: ContextServiceClientOptions) {
  const replyDeadlineMs = options.replyDeadlineMs ?? DEFAULT_REPLY_DEADLINE_MS;
  const client = createGrpcClient(loadProtos().te.context.v1.ContextService, address, options);
  type Req<M extends keyof typeof client> = RequestOf<typeof client, M>;
  type StreamReq<M extends keyof typeof client> = StreamRequestOf<typeof client, M>;

  return {
    sessions: {
      create: (request: Req<'CreateSession'>) => callUnary(client, 'CreateSession', request),
      list: (request: Req<'ListSessions'>) => callUnary(client, 'ListSessions', request),
      get: (id: string) => callUnary(client, 'GetSession', { id }),
      update: (request: Req<'UpdateSession'>) => callUnary(client, 'UpdateSession', request),
      delete: (id: string) => callUnary(client, 'DeleteSession', { id }),
    },
    messages: {
      post: (request: Req<'PostMessage'>) =>
        callUnary(client, 'PostMessage', request, { deadlineMs: replyDeadlineMs }),
      /**
       * PostMessageStream: user_message, delta*, reply. The call starts when iteration starts;
       * aborting `signal` (the HTTP client went away) cancels it, and context-service cancels inference.
       */
      postStream: (request: StreamReq<'PostMessageStream'>, signal?: AbortSignal) =>
        callServerStream(client, 'PostMessageStream', request, {
          deadlineMs: replyDeadlineMs,
          ...(signal && { signal }),
        }),
      list: (request: Req<'ListMessages'>) => callUnary(client, 'ListMessages', request),
    },
    attachments: {
      // Unary: the whole file in one message (grpc-js sends any size; context-service's receive limit decides).
      upload: (request: Req<'UploadAttachment'>, options?: CallUnaryOptions) =>
        callUnary(client, 'UploadAttachment', request, options),
      get: (sessionId: string, attachmentId: string) =>
        callUnary(client, 'GetAttachment', { sessionId, attachmentId }),
      /**
       * GetAttachmentContent: the stored bytes in chunks (total_size on the first). The call starts when
       * iteration starts; aborting `signal` (the HTTP client went away) cancels it and the storage read.
       */
      content: (sessionId: string, attachmentId: string, signal?: AbortSignal) =>
        callServerStream(
          client,
          'GetAttachmentContent',
          { sessionId, attachmentId },
          { deadlineMs: CONTENT_DEADLINE_MS, ...(signal && { signal }) },
        ),
    },
    close: () => client.close(),
  };
}

export type ContextServiceClient = ReturnType<typeof createContextServiceClient>;
