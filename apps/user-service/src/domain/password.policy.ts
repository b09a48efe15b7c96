import type { FieldError } from '@te/platform';

/**
 * NIST SP 800-63B §3.1.1.2: at least 8 characters, allow at least 64, no composition rules, reject
 * values derived from the account. The upper bound keeps hashing cost bounded (argon2 is deliberately
 * slow) and is far above any passphrase people use.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export function passwordProblems(password: string, account: { email: string; name: string }): FieldError[] {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return [{ field: 'password', message: `must be at least ${PASSWORD_MIN_LENGTH} characters` }];
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return [{ field: 'password', message: `must be at most ${PASSWORD_MAX_LENGTH} characters` }];
  }
  const lowered = password.toLowerCase();
  const derived = [account.email, account.email.split('@')[0], account.name.trim()].map((v) =>
    v.toLowerCase(),
  );
  if (derived.some((value) => value.length > 0 && lowered === value)) {
    return [{ field: 'password', message: 'must not be your email address or name' }];
  }
  return [];
}
