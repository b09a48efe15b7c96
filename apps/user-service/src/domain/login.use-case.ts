import { AppError, getRequestContext } from '@te/platform';
import { normaliseEmail } from './email.js';
import { countFailure, refuseWhileLockedOut, type LoginThrottle } from './login-throttle.js';
import { PASSWORD_MAX_LENGTH } from './password.policy.js';
import type { PasswordHasher, SessionIssuer, SessionTokens, UserStore } from './ports.js';
import type { SecurityAudit } from './security-audit.js';
import type { User } from './user.js';

export interface LoginInput {
  email: string;
  password: string;
}

export interface LoginDeps {
  users: UserStore;
  hasher: PasswordHasher;
  sessions: SessionIssuer;
  throttle: LoginThrottle;
  audit: SecurityAudit;
}

/**
 * Verifies credentials and opens a session. Unknown email and wrong password give the same error after
 * the same work (a decoy hash is verified, the same counters move, an audit row is written), so neither
 * the answer nor its timing tells whether an account exists (OWASP Authentication Cheat Sheet).
 */
export async function login(
  input: LoginInput,
  deps: LoginDeps,
): Promise<{ user: User; session: SessionTokens }> {
  const missing = (['email', 'password'] as const).filter((field) => input[field].trim() === '');
  if (missing.length) {
    throw new AppError('VALIDATION_FAILED', 'Email and password are required', {
      fields: missing.map((field) => ({ field, message: 'is required' })),
    });
  }
  const email = normaliseEmail(input.email);
  const key = { email, ip: getRequestContext()?.client?.ip };
  // Locked out: refused before any password is checked, so guessing gains nothing.
  await refuseWhileLockedOut(deps.throttle, key);

  const found = await deps.users.findByEmailWithCredentials(email);
  const tooLong = [...input.password].length > PASSWORD_MAX_LENGTH;
  const valid = await deps.hasher.verify(
    found?.passwordHash ?? (await deps.hasher.decoyHash),
    tooLong ? '' : input.password,
  );
  if (!found?.passwordHash || !valid || tooLong) {
    await countFailure(deps, key, found?.id);
    await deps.audit.record({
      userId: found?.id,
      type: 'sign_in_failed',
      details: {
        method: 'password',
        reason: !found ? 'unknown_account' : found.passwordHash ? 'wrong_password' : 'no_password_set',
      },
    });
    throw new AppError('UNAUTHENTICATED', 'Invalid email or password');
  }

  await deps.throttle.recordSuccess(key);
  const { passwordHash, ...user } = found;
  // Hashing parameters only ever go up; upgrade old hashes while we hold the plaintext.
  if (deps.hasher.needsRehash(passwordHash)) {
    await deps.users.updatePasswordHash(user.id, await deps.hasher.hash(input.password));
  }
  const session = await deps.sessions.start(user, { authMethod: 'password' });
  await deps.audit.record({
    userId: user.id,
    type: 'sign_in',
    details: { method: 'password', session_id: session.sessionId },
  });
  return { user, session };
}
