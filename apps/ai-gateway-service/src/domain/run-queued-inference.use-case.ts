import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@te/events';
import { AppError } from '@te/platform';
import { infer } from './infer.use-case.js';
import { inferenceFailed, type InferenceCall } from './inference.js';
import type { InferenceStore } from './ports.js';
import type { QueuedInference } from './queued-inference.js';
import type { QueuedInferenceDeps } from './submit-inference.use-case.js';

export interface RunQueuedInferenceDeps extends QueuedInferenceDeps {
  /** A queued inference not answered this long after it was submitted fails with DEADLINE_EXCEEDED. */
  timeoutMs: number;
}

export type RunOutcome = 'completed' | 'failed' | 'skipped';

/**
 * One delivery of a queued inference's job, in a worker: claim it (queued/running → running), run
 * infer() for its owner with the time left, and settle it. Exactly one ai.inference.completed or
 * ai.inference.failed per inference, however often the job is delivered:
 * - completed: infer() stores the answer under (user, request_id) with its event; a redelivery finds
 *   that answer (no provider call, no event) and only marks the row completed;
 * - failed: infer()'s failure events are held and written in the transaction that marks the row
 *   failed, which only an unsettled row allows; a crash before it leaves nothing published.
 * Our own failures (database, bugs: not AppErrors) are thrown, so the bus retries the job.
 */
export async function runQueuedInference(
  key: { userId: string; requestId: string },
  deps: RunQueuedInferenceDeps,
): Promise<RunOutcome> {
  const { clock } = deps.inference;
  const claimed = await deps.queued.claim(key.userId, key.requestId, clock());
  if (!claimed) return 'skipped';
  const { inference, input } = claimed;
  const deadline = new Date(inference.createdAt.getTime() + deps.timeoutMs);
  if (deadline.getTime() <= clock().getTime()) {
    await failUnattempted(inference, new AppError('DEADLINE_EXCEEDED', timedOut(deps.timeoutMs)), deps);
    return 'failed';
  }

  const held: EventEnvelope[] = [];
  const store: InferenceStore = {
    findAnswer: (...args) => deps.inference.store.findAnswer(...args),
    saveAnswer: (...args) => deps.inference.store.saveAnswer(...args),
    recordFailure: async (event) => {
      held.push(event);
    },
  };
  try {
    const answer = await infer(input, { userId: key.userId, deadline }, { ...deps.inference, store });
    // Failures held from attempts before one that answered (a fallback) are still published once.
    await deps.queued.complete(key, answer, held, clock());
    return 'completed';
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (held.length === 0) await failUnattempted(inference, error, deps);
    else await deps.queued.fail(key, { code: error.code, message: error.message }, held, clock());
    return 'failed';
  }
}

/**
 * Fails an inference that no provider attempted (its model is gone, it waited too long): unlike Infer,
 * whose caller hears the error, a queued inference's outcome is only known through its event.
 */
export async function failUnattempted(
  inference: QueuedInference,
  error: AppError,
  deps: QueuedInferenceDeps,
): Promise<boolean> {
  const now = deps.inference.clock();
  const call: InferenceCall = {
    userId: inference.userId,
    requestId: inference.requestId,
    metadata: inference.metadata,
  };
  const event = inferenceFailed(
    call,
    { inferenceId: randomUUID(), model: inference.model, provider: '', errorCode: error.code },
    now,
    deps.inference.source,
  );
  return deps.queued.fail(
    { userId: inference.userId, requestId: inference.requestId },
    { code: error.code, message: error.message },
    [event],
    now,
  );
}

export function timedOut(timeoutMs: number): string {
  return `The queued inference was not answered within ${Math.round(timeoutMs / 1000)} s of its submission`;
}
