import type { EventEnvelope } from '@te/events';
import type { Logger } from '@te/platform';
import { parseInferenceCompleted, type UsageLedger } from './usage.js';

export interface RecordInferenceUsageDeps {
  usage: UsageLedger;
  logger: Logger;
}

/**
 * Adds one completed inference to the user's daily aggregate for its model: one request, its tokens
 * and its cost. Invalid data throws VALIDATION_FAILED (it can never succeed). An event for an account
 * that does not exist (deleted meanwhile, or never ours) is acknowledged and dropped: retrying cannot
 * make the account appear, and deleted users must not be resurrected by late events.
 */
export async function recordInferenceUsage(
  event: EventEnvelope,
  deps: RecordInferenceUsageDeps,
): Promise<void> {
  const usage = parseInferenceCompleted(event.data, event.subject);
  if (!(await deps.usage.add(usage))) {
    deps.logger.warn('usage event for an unknown user ignored', {
      event_id: event.id,
      user_id: usage.userId,
      model: usage.model,
    });
  }
}
