import { createGrpcServer, loadProtos, type CallContext, type teAiV1 } from '@te/grpc';
import { captureLogger, createMetrics, Health, type Principal } from '@te/platform';

export interface FakeModel {
  name: string;
  vision?: boolean;
  contextWindow?: number;
  maxOutputTokens?: number;
}

export interface RecordedInfer {
  request: teAiV1.InferRequest__Output;
  principal?: Principal;
}

export type InferBehaviour = (
  request: teAiV1.InferRequest__Output,
  ctx: CallContext,
) => Promise<teAiV1.InferResponse>;

/** Answers with the text of the last user message, so a test can see what was sent. */
export const echo: InferBehaviour = async (request) => {
  const last = request.messages.at(-1);
  const text = (last?.content ?? []).map((part) => part.text ?? '').join('');
  return {
    inferenceId: request.requestId,
    modelVersion: `${request.model}@test-1`,
    provider: 'fake',
    text: `echo: ${text.slice(0, 200)}`,
    finishReason: 'stop',
    usage: { inputTokens: 11, outputTokens: 7, costUsd: '0.00042', estimated: false },
  };
};

/**
 * A stand-in for ai-gateway-service on loopback: a real gRPC server (libs/grpc) serving te.ai.v1's
 * ModelCatalog.ListModels and InferenceService.Infer. The test sets the catalogue and the behaviour of
 * Infer, and reads every request it received with its caller's principal.
 */
export async function startFakeAiGateway(options: { models?: FakeModel[]; port?: number } = {}) {
  const logs = captureLogger('fake-ai-gateway', 'warn');
  const server = createGrpcServer({
    logger: logs.logger,
    metrics: createMetrics({ service: 'fake-ai-gateway', defaultMetrics: false }),
    health: new Health(),
    reflection: false,
  });
  const state = {
    models: options.models ?? [{ name: 'explainer' }],
    behaviour: echo,
    infers: [] as RecordedInfer[],
    listCalls: 0,
  };
  const { ModelCatalog, InferenceService } = loadProtos().te.ai.v1;
  server.addService(ModelCatalog.service, {
    ListModels: async () => {
      state.listCalls += 1;
      return {
        models: state.models.map((model) => ({
          name: model.name,
          kind: 'alias',
          capabilities: {
            vision: model.vision ?? false,
            streaming: false,
            contextWindow: model.contextWindow ?? 8_000,
            maxOutputTokens: model.maxOutputTokens ?? 1_000,
          },
        })),
      };
    },
  });
  // Infer only: the unary half of the contract is what context-service calls today.
  const inferOnly = { Infer: InferenceService.service.Infer };
  server.addService(inferOnly, {
    Infer: async (request: teAiV1.InferRequest__Output, ctx: CallContext) => {
      state.infers.push({ request, principal: ctx.principal });
      return state.behaviour(request, ctx);
    },
  } as never);
  const port = await server.start(options.port ?? 0, '127.0.0.1');
  return {
    address: `127.0.0.1:${port}`,
    port,
    state,
    /** Infer requests received for a question (request_id = the user message id). */
    infersFor: (messageId: string) => state.infers.filter((infer) => infer.request.requestId === messageId),
    stop: () => server.stop(0),
  };
}

export type FakeAiGateway = Awaited<ReturnType<typeof startFakeAiGateway>>;

/** The text parts of a chat message, joined. */
export function textOf(message: teAiV1.ChatMessage__Output | undefined): string {
  return (message?.content ?? []).map((part) => part.text ?? '').join('');
}
