import { idempotent, type SubscribeOptions } from '@te/events';
import type { Logger } from '@te/platform';
import type { ContextDb } from '../db/prisma-client.js';
import { UserDataRepository } from '../db/user-data.repository.js';
import { eraseUserData, USER_DELETED, type EraseUserObjects } from '../domain/erase-user-data.use-case.js';
import type { SessionStates } from '../domain/ports.js';

/** context-service's queue for account deletions (also its consumer name in processed_events). */
export const USER_DELETED_QUEUE = 'context-service.user-deleted';

/**
 * `user.deleted` → erase the user's conversations. `idempotent` records the event id in the same
 * transaction as the deletion (a redelivery does nothing twice); the cached session states are
 * dropped once that transaction has committed, so no read can rebuild them from rows about to go.
 */
export function userDeletedSubscription(deps: {
  db: ContextDb;
  states: SessionStates;
  logger: Logger;
  eraseUserObjects?: EraseUserObjects;
}): SubscribeOptions {
  return {
    queue: USER_DELETED_QUEUE,
    bindings: [USER_DELETED],
    handler: async (event) => {
      const erased: string[] = [];
      await idempotent(
        deps.db,
        USER_DELETED_QUEUE,
        async (tx, delivered) => {
          const ids = await eraseUserData(delivered, {
            conversations: new UserDataRepository(tx),
            eraseUserObjects: deps.eraseUserObjects,
            logger: deps.logger,
          });
          erased.push(...ids);
        },
        { logger: deps.logger },
      )(event);
      await deps.states.forget(erased);
    },
  };
}
