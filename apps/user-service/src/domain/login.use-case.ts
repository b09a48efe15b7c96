import { AppError } from '@te/platform';
import { normaliseEmail } from './email.js';
import { PASSWORD_MAX_LENGTH } from './password.policy.js';
import type { AccessToken, PasswordHasher, TokenIssuer, UserStore } from './ports.js';
import type { User } from './user.js';

export interface LoginInput {
  email: string;
  password: string;
}

export interface LoginDeps {
  users: UserStore;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
}

/**
 * Verifies credentials. Unknown email and wrong password give the same error after the same work
 * (a decoy hash is verified), so neither the message nor the timing tells whether an account exists.
 */
export async function login(
  input: LoginInput,
  deps: LoginDeps,
): Promise<{ user: User; accessToken: AccessToken }> {
  const missing = (['email', 'password'] as const).filter((field) => input[field].trim() === '');
  if (missing.length) {
    throw new AppError('VALIDATION_FAILED', 'Email and password are required', {
      fields: missing.map((field) => ({ field, message: 'is required' })),
    });
  }
  if ([...input.password].length > PASSWORD_MAX_LENGTH) throw invalidCredentials();
  const found = await deps.users.findByEmailWithCredentials(normaliseEmail(input.email));
  const valid = await deps.hasher.verify(
    found?.passwordHash ?? (await deps.hasher.decoyHash),
    input.password,
  );
  if (!found || !valid) throw invalidCredentials();

  const { passwordHash, ...user } = found;
  // Hashing parameters only ever go up; upgrade old hashes while we hold the plaintext.
  if (deps.hasher.needsRehash(passwordHash)) {
    await deps.users.updatePasswordHash(user.id, await deps.hasher.hash(input.password));
  }
  return { user, accessToken: await deps.tokens.issueAccessToken(user) };
}

function invalidCredentials(): AppError {
  return new AppError('UNAUTHENTICATED', 'Invalid email or password');
}
