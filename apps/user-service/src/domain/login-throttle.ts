import { AppError } from '@te/platform';
import type { SecurityAudit } from './security-audit.js';

/**
 * Brute-force protection for anything that checks a password (OWASP Authentication Cheat Sheet,
 * "Protect against automated attacks"): failures are counted per account (normalised email, whether
 * or not it exists, so the lockout reveals nothing) and per client address within a window; past either
 * limit every attempt is refused before any password is checked, until the window ends.
 */
export interface ThrottleKey {
  /** Normalised email. */
  email: string;
  /** The client's address, when known (calls that stem from the public API). */
  ip?: string;
}

export type ThrottleScope = 'account' | 'ip';

export interface LoginThrottle {
  /** Seconds until a locked-out account or address may try again; undefined when not locked out. */
  lockedFor(key: ThrottleKey): Promise<number | undefined>;
  /** Counts a failure; `lockedOut` lists the limits this very failure reached (a new lockout). */
  recordFailure(key: ThrottleKey): Promise<{ lockedOut: ThrottleScope[]; retryAfterSeconds: number }>;
  /** A correct password clears the account's count (not the address's: one success must not unlock a spray). */
  recordSuccess(key: ThrottleKey): Promise<void>;
}

/** Refuses the attempt with 429 + Retry-After while the account or address is locked out. */
export async function refuseWhileLockedOut(throttle: LoginThrottle, key: ThrottleKey): Promise<void> {
  const retryAfterSeconds = await throttle.lockedFor(key);
  if (retryAfterSeconds !== undefined) {
    throw new AppError('RATE_LIMITED', 'Too many failed sign-in attempts; try again later', {
      retryAfterSeconds,
    });
  }
}

/** Counts a failed password check and records the lockout it may have started (once per lockout). */
export async function countFailure(
  deps: { throttle: LoginThrottle; audit: SecurityAudit },
  key: ThrottleKey,
  userId: string | undefined,
): Promise<void> {
  const { lockedOut, retryAfterSeconds } = await deps.throttle.recordFailure(key);
  for (const scope of lockedOut) {
    await deps.audit.record({
      // An address lockout is not about one account; the row is then visible to operators only.
      userId: scope === 'account' ? userId : undefined,
      type: 'lockout',
      details: { scope, retry_after_seconds: retryAfterSeconds },
    });
  }
}
