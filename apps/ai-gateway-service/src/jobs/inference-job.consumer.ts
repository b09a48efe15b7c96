import type { SubscribeOptions } from '@te/events';
import { AppError, type Logger } from '@te/platform';
import { AI_INFERENCE_JOB_REQUESTED, type InferenceRequestedData } from '../domain/queued-inference.js';
import { runQueuedInference, type RunQueuedInferenceDeps } from '../domain/run-queued-inference.use-case.js';

/** The queued-inference work queue: every worker (or a replica with INFERENCE_WORKER_ENABLED) competes for its jobs. */
export const INFERENCE_QUEUE = 'ai-gateway-service.inferences';

/** Declared by every ai-gateway-service process (host.declareQueue), so jobs wait for a worker. */
export const INFERENCE_WORK_QUEUE = { queue: INFERENCE_QUEUE, bindings: [AI_INFERENCE_JOB_REQUESTED] };

/**
 * `ai.inference_job.requested` → runQueuedInference. The job names the inference only; the request is
 * read from PostgreSQL. A delivery for an inference already settled (a redelivery, a duplicate) does
 * nothing. `prefetch` bounds the inferences one worker runs at once.
 */
export function inferenceJobSubscription(
  deps: RunQueuedInferenceDeps & { prefetch: number; logger: Logger },
): SubscribeOptions<InferenceRequestedData> {
  return {
    ...INFERENCE_WORK_QUEUE,
    prefetch: deps.prefetch,
    handler: async (event) => {
      const userId = event.data?.user_id;
      const requestId = event.data?.request_id;
      if (typeof userId !== 'string' || typeof requestId !== 'string')
        throw new AppError('VALIDATION_FAILED', 'user_id and request_id are required');
      const outcome = await runQueuedInference({ userId, requestId }, deps);
      deps.logger.info('queued inference job done', { request_id: requestId, outcome, event_id: event.id });
    },
  };
}
