import { createGrpcServer, loadProtos, type CallContext, type teAiV1 } from '@te/grpc';
import { setTimeout as delay } from 'node:timers/promises';
import { AppError, captureLogger, createMetrics, Health, type Principal } from '@te/platform';

export interface FakeModel {
  name: string;
  vision?: boolean;
  contextWindow?: number;
  maxOutputTokens?: number;
  /** What ListModels says of streaming (default true: PostMessageStream calls InferStream). */
  streaming?: boolean;
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

export type InferStreamBehaviour = (
  request: teAiV1.InferRequest__Output,
  ctx: CallContext,
) => AsyncIterable<teAiV1.InferStreamEvent>;

/** An InferStream call the fake received, and how it ended. */
export interface RecordedStream extends RecordedInfer {
  /** Set when the call ended because the caller cancelled it (or its deadline passed). */
  cancelled: boolean;
  /** Set once the handler finished, whichever way. */
  ended: boolean;
}

export interface StreamScript {
  /** Text deltas, in order (default: the echo answer, word by word). */
  deltas?: string[];
  /** Pause before each delta (the provider generating). */
  delayMs?: number;
  /** Throw this after `failAfter` deltas (default: after all of them, instead of `completed`). */
  error?: AppError;
  failAfter?: number;
  /** After `hangAfter` deltas, wait until the caller cancels (never completes by itself). */
  hangAfter?: number;
}

/**
 * An InferStream behaviour: started, the script's deltas, then completed (usage as echo's) — or its
 * failure, or a hang until cancelled.
 */
export function streamScript(script: StreamScript = {}): InferStreamBehaviour {
  return async function* (request, ctx) {
    const answer = await echo(request, ctx);
    const deltas = script.deltas ?? (answer.text ?? '').split(/(?<= )/);
    yield {
      started: { inferenceId: answer.inferenceId, modelVersion: answer.modelVersion, provider: 'fake' },
    };
    for (const [index, text] of deltas.entries()) {
      if (script.error && script.failAfter === index) throw script.error;
      if (script.hangAfter === index) await delay(600_000, undefined, { signal: ctx.signal });
      if (script.delayMs) await delay(script.delayMs, undefined, { signal: ctx.signal });
      yield { delta: { text } };
    }
    if (script.error) throw script.error;
    if (script.hangAfter !== undefined) await delay(600_000, undefined, { signal: ctx.signal });
    yield { completed: { ...answer, text: deltas.join('') } };
  };
}

/**
 * A stand-in for ai-gateway-service on loopback, for the tests of its callers (context-service,
 * api-gateway): a real gRPC server (libs/grpc) serving te.ai.v1's
 * ModelCatalog.ListModels and InferenceService (Infer and InferStream). The test sets the catalogue
 * and the behaviour of both calls, and reads every request it received with its caller's principal
 * (and, for streams, whether the caller cancelled).
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
    streamBehaviour: streamScript(),
    infers: [] as RecordedInfer[],
    streams: [] as RecordedStream[],
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
            streaming: model.streaming ?? true,
            contextWindow: model.contextWindow ?? 8_000,
            maxOutputTokens: model.maxOutputTokens ?? 1_000,
          },
        })),
      };
    },
  });
  server.addService(InferenceService.service, {
    Infer: async (request: teAiV1.InferRequest__Output, ctx: CallContext) => {
      state.infers.push({ request, principal: ctx.principal });
      return state.behaviour(request, ctx);
    },
    InferStream: async function* (request: teAiV1.InferRequest__Output, ctx: CallContext) {
      const record: RecordedStream = { request, principal: ctx.principal, cancelled: false, ended: false };
      state.streams.push(record);
      try {
        yield* state.streamBehaviour(request, ctx);
      } finally {
        record.cancelled = ctx.signal.aborted;
        record.ended = true;
      }
    },
    // Queued inference is not played by this fake (no caller uses it yet).
    SubmitInference: async () => {
      throw new AppError('UNAVAILABLE', 'SubmitInference is not played by this fake');
    },
    GetInference: async () => {
      throw new AppError('UNAVAILABLE', 'GetInference is not played by this fake');
    },
  } as never);
  const port = await server.start(options.port ?? 0, '127.0.0.1');
  return {
    address: `127.0.0.1:${port}`,
    port,
    state,
    /** Infer requests received for a question (request_id = the user message id). */
    infersFor: (messageId: string) => state.infers.filter((infer) => infer.request.requestId === messageId),
    /** InferStream calls received for a question. */
    streamsFor: (messageId: string) =>
      state.streams.filter((stream) => stream.request.requestId === messageId),
    stop: () => server.stop(0),
  };
}

export type FakeAiGateway = Awaited<ReturnType<typeof startFakeAiGateway>>;

/** The text parts of a chat message, joined. */
export function textOf(message: teAiV1.ChatMessage__Output | undefined): string {
  return (message?.content ?? []).map((part) => part.text ?? '').join('');
}
