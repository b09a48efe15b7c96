import { AppError } from '@te/platform';
import type { InferInput } from './infer-input.js';
import { inferenceCompleted, type InferenceAnswer } from './inference.js';
import {
  answerFor,
  IDEMPOTENCY_WINDOW_MS,
  prepareInference,
  recordFailure,
  type CallerContext,
  type InferenceDeps,
} from './prepare-inference.js';

/**
 * InferenceService.Infer: the stored answer for a repeated request_id, or resolve → provider →
 * answer stored with its ai.inference.completed event in one transaction.
 */
export async function infer(
  input: InferInput,
  caller: CallerContext,
  deps: InferenceDeps,
  earlierProblems: Parameters<typeof prepareInference>[3] = [],
): Promise<InferenceAnswer> {
  const outcome = await prepareInference(input, caller, deps, earlierProblems);
  if ('stored' in outcome) return outcome.stored;
  const { prepared } = outcome;
  let answer: InferenceAnswer;
  try {
    const completion = await prepared.provider.complete(prepared.request, {
      signal: caller.signal,
      deadline: caller.deadline,
    });
    answer = answerFor(prepared, completion);
  } catch (error) {
    await recordFailure(prepared, caller.signal?.aborted ? 'CANCELLED' : AppError.from(error).code, deps);
    throw error;
  }
  return saveAnswer(prepared.call, answer, deps);
}

export function saveAnswer(
  call: { userId: string; requestId: string; metadata: Record<string, string> },
  answer: InferenceAnswer,
  deps: InferenceDeps,
): Promise<InferenceAnswer> {
  const now = deps.clock();
  return deps.store.saveAnswer(
    {
      userId: call.userId,
      requestId: call.requestId,
      notBefore: new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
    },
    answer,
    inferenceCompleted(call, answer, now, deps.source),
  );
}
