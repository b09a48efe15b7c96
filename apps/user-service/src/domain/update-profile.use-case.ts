import { AppError, type FieldError } from '@te/platform';
import { getUser } from './get-user.use-case.js';
import type { AccountStore, UserStore } from './ports.js';
import {
  canonicalLocale,
  displayNameProblems,
  normaliseDisplayName,
  preferencesProblems,
} from './profile.policy.js';
import type { User } from './user.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Only the fields present change; `preferences` replaces the stored object as a whole. */
export interface UpdateProfileInput {
  name?: string;
  locale?: string;
  preferences?: unknown;
}

export interface UpdateProfileDeps {
  users: UserStore;
  accounts: AccountStore;
}

/** Changes the caller's display name, locale or preferences; every invalid field is reported at once. */
export async function updateProfile(
  userId: string,
  input: UpdateProfileInput,
  deps: UpdateProfileDeps,
): Promise<User> {
  const changes: { name?: string; locale?: string; preferences?: Record<string, unknown> } = {};
  const problems: FieldError[] = [];

  if (input.name !== undefined) {
    const name = normaliseDisplayName(input.name);
    const nameProblems = displayNameProblems(name);
    if (nameProblems.length) problems.push(...nameProblems);
    else changes.name = name;
  }
  if (input.locale !== undefined) {
    const locale = canonicalLocale(input.locale);
    if (locale) changes.locale = locale;
    else
      problems.push({ field: 'locale', message: 'must be a well-formed BCP 47 language tag, e.g. "pt-BR"' });
  }
  if (input.preferences !== undefined) {
    const preferencesIssues = preferencesProblems(input.preferences);
    if (preferencesIssues.length) problems.push(...preferencesIssues);
    else changes.preferences = input.preferences as Record<string, unknown>;
  }
  if (problems.length)
    throw new AppError('VALIDATION_FAILED', 'Profile data is invalid', { fields: problems });

  // Nothing to change is not an error (PATCH with an empty object): the answer is the current profile.
  // (An id that is not a UUID cannot name an account; getUser below reports it.)
  if (
    Object.keys(changes).length &&
    UUID.test(userId) &&
    !(await deps.accounts.updateProfile(userId, changes))
  ) {
    throw new AppError('NOT_FOUND', 'User not found');
  }
  return getUser(userId, deps);
}
