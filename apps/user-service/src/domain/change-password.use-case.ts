import { AppError, getRequestContext } from '@te/platform';
import { countFailure, refuseWhileLockedOut, type LoginThrottle } from './login-throttle.js';
import { PASSWORD_MAX_LENGTH, passwordProblems } from './password.policy.js';
import type { PasswordHasher, UserStore } from './ports.js';
import type { SecurityAudit } from './security-audit.js';
import type { SessionManager } from './session.js';

export interface ChangePasswordInput {
  userId: string;
  /** The session making the change (from the access token); it stays signed in. */
  sessionId?: string;
  currentPassword: string;
  newPassword: string;
}

export interface ChangePasswordDeps {
  users: UserStore;
  hasher: PasswordHasher;
  sessions: SessionManager;
  throttle: LoginThrottle;
  audit: SecurityAudit;
}

/**
 * Changes the password (OWASP Authentication Cheat Sheet: re-authenticate with the current password,
 * throttled like sign-in so a stolen access token cannot guess it) and ends every other session, so
 * whoever else held one is out (their refresh tokens die here, their access tokens at the gateway).
 * Returns the ids of the sessions ended.
 */
export async function changePassword(
  input: ChangePasswordInput,
  deps: ChangePasswordDeps,
): Promise<string[]> {
  const missing = (['currentPassword', 'newPassword'] as const).filter((field) => input[field] === '');
  if (missing.length) {
    throw new AppError('VALIDATION_FAILED', 'Current and new password are required', {
      fields: missing.map((field) => ({
        field: field === 'currentPassword' ? 'current_password' : 'new_password',
        message: 'is required',
      })),
    });
  }
  const account = await deps.users.findByIdWithCredentials(input.userId);
  if (!account) throw new AppError('NOT_FOUND', 'Account not found');
  if (!account.passwordHash) {
    throw new AppError(
      'PRECONDITION_FAILED',
      'This account signs in through an identity provider and has no password',
    );
  }
  const key = { email: account.email, ip: getRequestContext()?.client?.ip };
  await refuseWhileLockedOut(deps.throttle, key);

  const tooLong = [...input.currentPassword].length > PASSWORD_MAX_LENGTH;
  if (tooLong || !(await deps.hasher.verify(account.passwordHash, input.currentPassword))) {
    await countFailure(deps, key, account.id);
    await deps.audit.record({
      userId: account.id,
      type: 'sign_in_failed',
      details: { method: 'password', reason: 'wrong_password', during: 'password_change' },
    });
    throw new AppError('UNAUTHENTICATED', 'The current password is incorrect', {
      fields: [{ field: 'current_password', message: 'is incorrect' }],
    });
  }
  await deps.throttle.recordSuccess(key);

  const problems = passwordProblems(input.newPassword, account, 'new_password');
  if (problems.length)
    throw new AppError('VALIDATION_FAILED', 'The new password is not acceptable', { fields: problems });

  // Sessions first: if the hash update then failed, the worst case is being signed out elsewhere,
  // never a new password with the old sessions still alive.
  const revoked = await deps.sessions.revokeAll(account.id, 'password_changed', { except: input.sessionId });
  await deps.users.updatePasswordHash(account.id, await deps.hasher.hash(input.newPassword));
  await deps.audit.record({
    userId: account.id,
    type: 'password_changed',
    details: { revoked_sessions: revoked.length },
  });
  return revoked;
}
