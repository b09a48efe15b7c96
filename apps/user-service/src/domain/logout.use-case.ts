import { AppError } from '@te/platform';
import type { SecurityAudit } from './security-audit.js';
import type { SessionManager } from './session.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LogoutInput {
  userId: string;
  /** The session to end. */
  sessionId: string;
  /** The session the caller is using (the access token's `sid`), to tell a logout from ending another device. */
  currentSessionId?: string;
}

/**
 * Ends one of the caller's own sessions. Another user's session (or one that does not exist) is
 * NOT_FOUND, never FORBIDDEN, so session ids of other accounts cannot be probed. Ending a session that
 * already ended succeeds with nothing revoked (logout is idempotent). Returns the ids revoked.
 */
export async function logout(
  input: LogoutInput,
  deps: { sessions: SessionManager; audit: SecurityAudit },
): Promise<string[]> {
  if (!UUID.test(input.sessionId)) throw new AppError('NOT_FOUND', 'Session not found');
  const current = input.sessionId === input.currentSessionId;
  const reason = current ? 'logout' : 'session_revoked';
  const result = await deps.sessions.revoke(input.userId, input.sessionId, reason);
  if (result === 'not_found') throw new AppError('NOT_FOUND', 'Session not found');
  if (result === 'already_ended') return [];
  await deps.audit.record({
    userId: input.userId,
    type: reason,
    details: { session_id: input.sessionId },
  });
  return [input.sessionId];
}
