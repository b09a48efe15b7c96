import { env } from '@te/platform';
import { z } from 'zod';

/** Queued inference (SubmitInference and its workers): the variables, as a fragment of the service's schema. */
export const queuedInferenceConfigFragment = {
  INFERENCE_WORKER_ENABLED: env
    .boolean(true)
    .describe('run the queued-inference consumer inside this process (false when src/worker.ts runs it)'),
  INFERENCE_WORKER_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(4)
    .describe('queued inferences one worker process runs at once (the work queue prefetch)'),
  QUEUED_INFERENCE_TIMEOUT_MS: env
    .positiveInt(600_000)
    .describe('a queued inference not answered this long after submission fails with DEADLINE_EXCEEDED'),
  QUEUED_INFERENCE_SWEEP_MARGIN_MS: env
    .milliseconds(60_000)
    .describe(
      'the sweeper fails queued inferences still unsettled QUEUED_INFERENCE_TIMEOUT_MS + this long after submission',
    ),
  QUEUED_INFERENCE_SWEEP_INTERVAL_MS: env
    .positiveInt(60_000)
    .describe('how often one replica looks for queued inferences left unsettled'),
};
