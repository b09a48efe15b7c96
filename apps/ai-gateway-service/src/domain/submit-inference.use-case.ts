import type { FieldError } from '@te/platform';
import { validateInferInput, type InferInput } from './infer-input.js';
import {
  IDEMPOTENCY_WINDOW_MS,
  prepareInference,
  type CallerContext,
  type InferenceDeps,
} from './prepare-inference.js';
import { inferenceRequested, type QueuedInference, type QueuedInferenceStore } from './queued-inference.js';

export interface QueuedInferenceDeps {
  inference: InferenceDeps;
  queued: QueuedInferenceStore;
}

/**
 * InferenceService.SubmitInference: validated and resolved as Infer would be, then stored as queued with
 * its job (ai.inference_job.requested) in one transaction; a worker answers it. Idempotent on
 * request_id: a repeat returns the existing inference and queues nothing; an id Infer already answered
 * is stored completed, with no job.
 */
export async function submitInference(
  input: InferInput,
  caller: CallerContext,
  deps: QueuedInferenceDeps,
  earlierProblems: FieldError[] = [],
): Promise<QueuedInference> {
  validateInferInput(input, earlierProblems);
  const now = deps.inference.clock();
  const notBefore = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  const existing = await deps.queued.find(caller.userId, input.requestId, notBefore);
  if (existing) return existing;

  // Refuses what Infer would refuse before calling a provider (unknown model, image to a text-only one).
  const outcome = await prepareInference(input, caller, deps.inference, earlierProblems);
  if ('stored' in outcome) return deps.queued.saveCompleted(input, caller.userId, outcome.stored);
  const key = { userId: caller.userId, requestId: input.requestId };
  return deps.queued.enqueue(
    input,
    caller.userId,
    notBefore,
    inferenceRequested(key, now, deps.inference.source),
  );
}
