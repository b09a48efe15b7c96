import { idempotent, type EventEnvelope, type SubscribeOptions } from '@te/events';
import type { Logger } from '@te/platform';
import type { AiGatewayDb } from '../db/prisma-client.js';
import { UserDataRepository } from '../db/user-data.repository.js';
import type { ResponseCache, TokenBudget } from '../domain/ports.js';

export const USER_DELETED = 'user.deleted';

/** ai-gateway-service's queue for account deletions (also its consumer name in processed_events). */
export const USER_DELETED_QUEUE = 'ai-gateway-service.user-deleted';

interface UserDeletedData {
  user_id?: unknown;
}

/**
 * `user.deleted` → erase what this service keeps about the user: cached answers and budget windows in
 * Redis first (an outage throws, so the event is retried; both erasures are idempotent), then the
 * stored answers and queued inferences in one transaction with the event's processed_events row, so a
 * redelivery does nothing twice. Usage already published stays with user-service, which erases its own.
 */
export function userDeletedSubscription(deps: {
  db: AiGatewayDb;
  cache?: ResponseCache;
  budget?: TokenBudget;
  logger: Logger;
}): SubscribeOptions<UserDeletedData> {
  const eraseRows = idempotent(
    deps.db,
    USER_DELETED_QUEUE,
    async (tx, event: EventEnvelope<UserDeletedData>) => {
      const userId = event.data.user_id as string;
      const erased = await new UserDataRepository(tx).erase(userId);
      deps.logger.info('user data erased', {
        user_id: userId,
        stored_answers: erased.storedAnswers,
        queued_inferences: erased.queuedInferences,
      });
    },
    { logger: deps.logger },
  );
  return {
    queue: USER_DELETED_QUEUE,
    bindings: [USER_DELETED],
    handler: async (event) => {
      const userId = event.data?.user_id;
      if (typeof userId !== 'string' || userId === '') {
        deps.logger.warn('user.deleted without a user_id: nothing to erase', { event_id: event.id });
        return;
      }
      await deps.cache?.forgetUser(userId);
      await deps.budget?.forgetUser(userId);
      await eraseRows(event);
    },
  };
}
