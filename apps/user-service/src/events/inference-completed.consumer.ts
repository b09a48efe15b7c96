import { idempotent, type SubscribeOptions } from '@te/events';
import type { Logger } from '@te/platform';
import { UsageRepository } from '../db/usage.repository.js';
import type { UserDb } from '../db/prisma-client.js';
import { recordInferenceUsage } from '../domain/record-inference-usage.use-case.js';
import { AI_INFERENCE_COMPLETED } from '../domain/usage.js';

/** user-service's queue for usage analytics (also its consumer name in processed_events). */
export const USAGE_QUEUE = 'user-service.usage';

/**
 * `ai.inference.completed` → usage_daily. `idempotent` records the event id in the same transaction
 * as the increment, so a redelivered event (at-least-once delivery, or the producer's outbox
 * publishing twice) is counted once.
 *
 * Invalid data throws VALIDATION_FAILED. @te/events has no notion of a permanent failure: every
 * handler error is retried on the queue's back-off (1 s, 5 s, 30 s) and then dead-lettered to
 * `user-service.usage.dlq` with `x-error-code: VALIDATION_FAILED`. Bounded, never endless, and
 * nothing is counted on the way.
 */
export function inferenceCompletedSubscription(db: UserDb, logger: Logger): SubscribeOptions {
  return {
    queue: USAGE_QUEUE,
    bindings: [AI_INFERENCE_COMPLETED],
    handler: idempotent(
      db,
      USAGE_QUEUE,
      async (tx, event) => recordInferenceUsage(event, { usage: new UsageRepository(tx), logger }),
      { logger },
    ),
  };
}
