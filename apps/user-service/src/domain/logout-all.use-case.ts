import type { SecurityAudit } from './security-audit.js';
import type { SessionManager } from './session.js';

/** Ends every session of the caller (this device included): "sign out everywhere". Returns their ids. */
export async function logoutAll(
  userId: string,
  deps: { sessions: SessionManager; audit: SecurityAudit },
): Promise<string[]> {
  const revoked = await deps.sessions.revokeAll(userId, 'logout_all');
  await deps.audit.record({ userId, type: 'logout_all', details: { revoked_sessions: revoked.length } });
  return revoked;
}
