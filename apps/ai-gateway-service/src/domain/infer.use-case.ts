import { AppError } from '@te/platform';
import { cacheAnswer } from './cache-and-budget.js';
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
 * InferenceService.Infer: the stored answer for a repeated request_id, or resolve → (use_cache: the
 * cached answer, saved as this inference's) → token budget held → the chain's versions through the
 * resilience layer → the answer of the version that answered, stored with its ai.inference.completed
 * event in one transaction, the budget settled to its usage and (use_cache) the answer cached. One
 * ai.inference.failed, and the hold released, when every version failed.
 */
export async function infer(
  input: InferInput,
  caller: CallerContext,
  deps: InferenceDeps,
  earlierProblems: Parameters<typeof prepareInference>[3] = [],
): Promise<InferenceAnswer> {
  const outcome = await prepareInference(input, caller, deps, earlierProblems);
  if ('stored' in outcome) return outcome.stored;
  if ('cached' in outcome) return saveAnswer(outcome.call, outcome.cached, deps);
  const { prepared } = outcome;
  const progress = { current: prepared.chain[0] };
  let answer: InferenceAnswer;
  try {
    // The provider call: retries, breakers, concurrency limits and fallback along the chain.
    const { candidate, completion } = await deps.resilience.complete(
      prepared.chain,
      { signal: caller.signal, deadline: caller.deadline },
      progress,
    );
    answer = answerFor(prepared, candidate, completion);
  } catch (error) {
    await prepared.budget.abandon();
    await recordFailure(prepared, progress.current, failureCode(error, caller), deps);
    throw error;
  }
  // Settled before the answer is stored: the tokens are spent even if storing fails.
  await prepared.budget.settle(answer.usage);
  const saved = await saveAnswer(prepared.call, answer, deps);
  await cacheAnswer(prepared.cacheRequest, saved, deps);
  return saved;
}

/** The ai.inference.failed error code: CANCELLED when the caller went away, else the AppError code. */
export function failureCode(error: unknown, caller: CallerContext): string {
  return caller.signal?.aborted ? 'CANCELLED' : AppError.from(error).code;
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
