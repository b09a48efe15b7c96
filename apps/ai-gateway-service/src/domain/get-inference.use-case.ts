import { AppError } from '@te/platform';
import { IDEMPOTENCY_WINDOW_MS, type CallerContext } from './prepare-inference.js';
import type { QueuedInference } from './queued-inference.js';
import type { QueuedInferenceDeps } from './submit-inference.use-case.js';

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** InferenceService.GetInference: the caller's own inference only (another user's is NOT_FOUND). */
export async function getInference(
  requestId: string,
  caller: CallerContext,
  deps: QueuedInferenceDeps,
): Promise<QueuedInference> {
  if (!REQUEST_ID.test(requestId))
    throw new AppError('VALIDATION_FAILED', 'The request is invalid', {
      fields: [{ field: 'request_id', message: 'is required: 1–128 visible ASCII characters (a UUID)' }],
    });
  const now = deps.inference.clock();
  const found = await deps.queued.find(
    caller.userId,
    requestId,
    new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
  );
  if (!found) throw new AppError('NOT_FOUND', 'No queued inference with this request_id');
  return found;
}
