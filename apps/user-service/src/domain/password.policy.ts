import { dictionary } from '@zxcvbn-ts/language-common';
import type { FieldError } from '@te/platform';

/**
 * NIST SP 800-63B §3.1.1.2: at least 8 characters, allow at least 64, no composition rules, reject
 * values derived from the account and values from lists of commonly used or breached passwords. The
 * upper bound keeps hashing cost bounded (argon2 is deliberately slow) and is far above any passphrase
 * people use.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

// zxcvbn's `passwords-common`: the most frequent passwords of public breach corpora (~49k entries,
// all lower-case), compared case-insensitively. Built on first use.
let common: Set<string> | undefined;

export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()));
  return common.has(password.toLowerCase());
}

/** Every way `password` breaks the policy, reported on `field` ('password', 'new_password'). */
export function passwordProblems(
  password: string,
  account: { email: string; name: string },
  field = 'password',
): FieldError[] {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return [{ field, message: `must be at least ${PASSWORD_MIN_LENGTH} characters` }];
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return [{ field, message: `must be at most ${PASSWORD_MAX_LENGTH} characters` }];
  }
  const lowered = password.toLowerCase();
  const derived = [account.email, account.email.split('@')[0], account.name.trim()].map((v) =>
    v.toLowerCase(),
  );
  if (derived.some((value) => value.length > 0 && lowered === value)) {
    return [{ field, message: 'must not be your email address or name' }];
  }
  if (isCommonPassword(password)) {
    return [{ field, message: 'is too common (found in lists of breached passwords)' }];
  }
  return [];
}
