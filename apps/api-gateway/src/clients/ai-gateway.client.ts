import {
  callServerStream,
  callUnary,
  createGrpcClient,
  loadProtos,
  type GrpcClientOptions,
  type RequestOf,
} from '@te/grpc';

export interface AiGatewayClientOptions extends GrpcClientOptions {
  /**
   * Deadline of Infer and of a whole InferStream (the OpenAI-compatible API): inference takes far
   * longer than a catalogue read. The gateway passes REPLY_DEADLINE_MS.
   */
  inferDeadlineMs?: number;
}

/** 75 s, like a message's reply (REPLY_DEADLINE_MS). */
export const DEFAULT_INFER_DEADLINE_MS = 75_000;

/**
 * ai-gateway-service over gRPC (proto/te/ai/v1/inference.proto): the model catalog the caller may
 * name, and inference. The principal travels in metadata; the service decides what that caller may
 * see and use.
 */
export function createAiGatewayClient(address: string, options: AiGatewayClientOptions) {
  const inferDeadlineMs = options.inferDeadlineMs ?? DEFAULT_INFER_DEADLINE_MS;
  const catalog = createGrpcClient(loadProtos().te.ai.v1.ModelCatalog, address, options);
  const inference = createGrpcClient(loadProtos().te.ai.v1.InferenceService, address, options);
  // The model registry's administration (proto/te/ai/v1/model_admin.proto): admins only, which the
  // service checks again.
  const admin = createGrpcClient(loadProtos().te.ai.v1.ModelAdmin, address, options);
  type InferRequest = RequestOf<typeof inference, 'Infer'>;

  return {
    models: {
      list: () => callUnary(catalog, 'ListModels', {}),
    },
    inference: {
      /** Infer: the whole answer. Aborting `signal` (the HTTP client went away) cancels it. */
      infer: (request: InferRequest, signal?: AbortSignal) =>
        callUnary(inference, 'Infer', request, { deadlineMs: inferDeadlineMs, ...(signal && { signal }) }),
      /**
       * InferStream: started, delta*, completed. The call starts when iteration starts; leaving the
       * loop early or aborting `signal` cancels it, and ai-gateway-service closes the provider's request.
       */
      inferStream: (request: InferRequest, signal?: AbortSignal) =>
        callServerStream(inference, 'InferStream', request, {
          deadlineMs: inferDeadlineMs,
          ...(signal && { signal }),
        }),
    },
    admin: {
      listVersions: () => callUnary(admin, 'ListModelVersions', {}),
      createVersion: (request: RequestOf<typeof admin, 'CreateModelVersion'>) =>
        callUnary(admin, 'CreateModelVersion', request),
      updateLifecycle: (request: RequestOf<typeof admin, 'UpdateModelVersionLifecycle'>) =>
        callUnary(admin, 'UpdateModelVersionLifecycle', request),
      listAliases: () => callUnary(admin, 'ListAliases', {}),
      setAliasTargets: (request: RequestOf<typeof admin, 'SetAliasTargets'>) =>
        callUnary(admin, 'SetAliasTargets', request),
      deleteAlias: (alias: string) => callUnary(admin, 'DeleteAlias', { alias }),
    },
    close: () => {
      catalog.close();
      inference.close();
      admin.close();
    },
  };
}

export type AiGatewayClient = ReturnType<typeof createAiGatewayClient>;
