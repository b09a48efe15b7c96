import type { AsyncHandlers, CallContext, teAiV1 } from '@te/grpc';
import { AppError, type Principal } from '@te/platform';
import { inferStream } from '../domain/infer-stream.use-case.js';
import { infer } from '../domain/infer.use-case.js';
import type { InferenceDeps } from '../domain/prepare-inference.js';
import { getInference } from '../domain/get-inference.use-case.js';
import type { QueuedInferenceStore } from '../domain/queued-inference.js';
import { submitInference } from '../domain/submit-inference.use-case.js';
import { toInferInput, toInferResponse } from './messages.js';
import { toInferenceStatus } from './queued-inference.messages.js';

/** te.ai.v1.InferenceService: thin; the caller, deadline and cancellation come from the call context. */
export function inferenceHandlers(
  deps: InferenceDeps,
  queued: QueuedInferenceStore,
): AsyncHandlers<teAiV1.InferenceServiceHandlers> {
  return {
    async Infer(request, ctx) {
      const { input, problems } = toInferInput(request);
      const answer = await infer(input, callerOf(ctx), deps, problems);
      return toInferResponse(answer);
    },

    async *InferStream(request, ctx) {
      const { input, problems } = toInferInput(request);
      for await (const event of inferStream(input, callerOf(ctx), deps, problems)) {
        if (event.type === 'started') {
          const { inferenceId, modelVersion, provider } = event;
          yield { started: { inferenceId, modelVersion, provider } };
        } else if (event.type === 'delta') yield { delta: { text: event.text } };
        else yield { completed: toInferResponse(event.answer) };
      }
    },

    async SubmitInference(request, ctx) {
      const { input, problems } = toInferInput(request);
      const inference = await submitInference(input, callerOf(ctx), { inference: deps, queued }, problems);
      return { requestId: inference.requestId, status: inference.status };
    },

    async GetInference(request, ctx) {
      const inference = await getInference(request.requestId, callerOf(ctx), { inference: deps, queued });
      return toInferenceStatus(inference);
    },
  };
}

function callerOf(ctx: CallContext) {
  return { userId: principal(ctx).userId, signal: ctx.signal, deadline: ctx.deadline };
}

export function principal(ctx: CallContext): Principal {
  if (!ctx.principal) throw new AppError('UNAUTHENTICATED', 'This call needs an authenticated caller');
  return ctx.principal;
}
