import { createEvent, type EventEnvelope } from '@te/events';
import { AppError, type Logger, type Principal } from '@te/platform';
import type { AccountStore } from './ports.js';
import { SESSION_REVOKED, type SessionRevokedData } from './session.js';

/** Routing key of the account-deletion event (contract: docs/events.md). */
export const USER_DELETED = 'user.deleted';

/**
 * Data of `user.deleted`: every service erases what it holds about `user_id` (GDPR art. 17, right to
 * erasure). Deliberately no email or name: the event outlives the account in queues and logs.
 */
export interface UserDeletedData {
  user_id: string;
  deleted_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DeleteAccountDeps {
  accounts: AccountStore;
  source: string;
  logger: Logger;
}

/**
 * Deletes the caller's account. One transaction removes the user (the schema cascades sessions,
 * refresh tokens, API keys, linked identities, audit rows and usage) and writes `user.deleted` (and
 * `session.revoked`) to the outbox, so the events exist if and only if the deletion committed. Returns
 * every session and API key the account had, so the gateway can stop their still-valid access tokens
 * and cached keys at once.
 */
export async function deleteAccount(
  caller: Pick<Principal, 'userId' | 'authMethod' | 'apiKeyId'>,
  deps: DeleteAccountDeps,
): Promise<{ revokedSessionIds: string[]; revokedApiKeyIds: string[] }> {
  // Irreversible, so only a signed-in session may do it (OWASP Authentication Cheat Sheet: sensitive
  // features need the user's interactive credentials). A leaked API key, even one given
  // profile:write, must not be able to erase the account.
  if (caller.apiKeyId || caller.authMethod === 'api_key') {
    throw new AppError('FORBIDDEN', 'Deleting the account needs a signed-in session, not an API key');
  }
  const userId = caller.userId;
  const deleted =
    UUID.test(userId) &&
    (await deps.accounts.delete(userId, (account) => deletionEvents(userId, account, deps.source)));
  if (!deleted) throw new AppError('NOT_FOUND', 'User not found');
  // The audit rows went with the account; this line is what remains of the operation (no personal data).
  deps.logger.info('account deleted', { user_id: userId, sessions: deleted.sessionIds.length });
  return { revokedSessionIds: deleted.sessionIds, revokedApiKeyIds: deleted.apiKeyIds };
}

/**
 * `user.deleted` for every service, and `session.revoked` for the gateways: the sessions went with the
 * account, and the event is the guaranteed path (outbox, at least once) by which every gateway replica
 * refuses their access tokens; the DELETE route also marks them at once.
 */
function deletionEvents(userId: string, account: { sessionIds: string[] }, source: string): EventEnvelope[] {
  const now = new Date().toISOString();
  const events: EventEnvelope[] = [
    createEvent<UserDeletedData>({
      type: USER_DELETED,
      source,
      subject: userId,
      data: { user_id: userId, deleted_at: now },
    }),
  ];
  if (account.sessionIds.length) {
    events.push(
      createEvent<Omit<SessionRevokedData, 'reason'> & { reason: 'account_deleted' }>({
        type: SESSION_REVOKED,
        source,
        subject: userId,
        data: {
          user_id: userId,
          session_ids: account.sessionIds,
          reason: 'account_deleted',
          revoked_at: now,
        },
      }),
    );
  }
  return events;
}
