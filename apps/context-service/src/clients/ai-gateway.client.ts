import { callServerStream, callUnary, createGrpcClient, loadProtos, type teAiV1 } from '@te/grpc';
import type { Logger, Metrics } from '@te/platform';
import type { CatalogueModel } from '../routing/model-catalogue.js';

export interface AiGatewayClientOptions {
  /** AI_GATEWAY_SERVICE_ADDR, host:port of ai-gateway-service's gRPC server. */
  address: string;
  /** Deadline of one Infer call, and of a whole InferStream call (AI_GATEWAY_INFER_DEADLINE_MS). */
  inferDeadlineMs: number;
  /** Deadline of ListModels. */
  catalogueDeadlineMs?: number;
  logger: Logger;
  metrics: Metrics;
}

/** What routing asks of the AI gateway (an interface, so the domain does not see gRPC). */
export interface AiGateway {
  listModels(): Promise<CatalogueModel[]>;
  infer(request: teAiV1.InferRequest): Promise<teAiV1.InferResponse__Output>;
  /**
   * InferStream: started → delta* → completed, in order. Aborting `signal` (or leaving the loop)
   * cancels the call upstream.
   */
  inferStream(
    request: teAiV1.InferRequest,
    signal?: AbortSignal,
  ): AsyncIterable<teAiV1.InferStreamEvent__Output>;
  close(): void;
}

/**
 * te.ai.v1 over gRPC. The principal travels by itself: libs/grpc's client interceptor copies the
 * x-te-principal (and request id, trace context) of the request context the call runs in, so a call
 * made while handling PostMessage acts for its caller; the reply worker runs each job inside
 * runWithRequestContext with the message owner's principal (see reply.consumer.ts). Failures reject
 * with the AppError the AI gateway sent (x-te-error-code), or UNAVAILABLE / DEADLINE_EXCEEDED.
 */
export function createAiGatewayClient(options: AiGatewayClientOptions): AiGateway {
  const { te } = loadProtos();
  const deps = { logger: options.logger, metrics: options.metrics };
  const inference = createGrpcClient(te.ai.v1.InferenceService, options.address, {
    ...deps,
    deadlineMs: options.inferDeadlineMs,
  });
  const catalogue = createGrpcClient(te.ai.v1.ModelCatalog, options.address, deps);
  return {
    async listModels() {
      const { models } = await callUnary(
        catalogue,
        'ListModels',
        {},
        { deadlineMs: options.catalogueDeadlineMs ?? 5_000 },
      );
      return (models ?? []).map((model) => ({
        name: model.name,
        vision: model.capabilities?.vision ?? false,
        streaming: model.capabilities?.streaming ?? false,
        contextWindow: model.capabilities?.contextWindow ?? 0,
        maxOutputTokens: model.capabilities?.maxOutputTokens ?? 0,
      }));
    },
    infer(request) {
      return callUnary(inference, 'Infer', request, { deadlineMs: options.inferDeadlineMs });
    },
    inferStream(request, signal) {
      return callServerStream(inference, 'InferStream', request, {
        deadlineMs: options.inferDeadlineMs,
        ...(signal && { signal }),
      });
    },
    close() {
      inference.close();
      catalogue.close();
    },
  };
}
