import type { EventEnvelope } from '@te/events';
import { AppError, type Logger } from '@te/platform';
import { isUuid } from './conversation.policy.js';

/** Routing key of user-service's account deletion (contract: docs/events.md). */
export const USER_DELETED = 'user.deleted';

/** Removes every row of a user; resolves to the ids of the sessions that went. */
export interface UserDataEraser {
  eraseUser(userId: string): Promise<string[]>;
}

/**
 * Erases stored objects (screenshots) of a user. Object storage is wired by the attachments work; until
 * then nothing is erased there. Idempotent: it runs again when the event is redelivered.
 */
export type EraseUserObjects = (userId: string) => Promise<void>;

export interface EraseUserDataDeps {
  conversations: UserDataEraser;
  eraseUserObjects?: EraseUserObjects;
  logger: Logger;
}

/**
 * `user.deleted` → the user's sessions, messages and attachments (rows, then their objects). Called
 * inside the consumer's idempotency transaction: if erasing the objects fails, the rows come back
 * with the rollback and the redelivery does both again. Invalid data throws VALIDATION_FAILED (the
 * message is dead-lettered after the retries). Returns the erased session ids.
 */
export async function eraseUserData(event: EventEnvelope, deps: EraseUserDataDeps): Promise<string[]> {
  const data = event.data as { user_id?: unknown } | null;
  const userId = typeof data?.user_id === 'string' ? data.user_id : undefined;
  if (!userId || !isUuid(userId)) {
    throw new AppError('VALIDATION_FAILED', 'Invalid user.deleted event', {
      fields: [{ field: 'data.user_id', message: 'must be a UUID' }],
    });
  }
  const sessionIds = await deps.conversations.eraseUser(userId.toLowerCase());
  await deps.eraseUserObjects?.(userId.toLowerCase());
  deps.logger.info('user data erased', { user_id: userId, sessions: sessionIds.length, event_id: event.id });
  return sessionIds;
}
