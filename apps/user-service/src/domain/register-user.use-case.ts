import { createEvent } from '@te/events';
import { AppError, type FieldError } from '@te/platform';
import { isPlausibleEmail, normaliseEmail } from './email.js';
import { passwordProblems } from './password.policy.js';
import type { PasswordHasher, SessionIssuer, SessionTokens, UserStore } from './ports.js';
import type { SecurityAudit } from './security-audit.js';
import { rolesForNewAccount, USER_REGISTERED, type User, type UserRegisteredData } from './user.js';

export interface RegisterUserInput {
  email: string;
  password: string;
  name: string;
}

export interface RegisterUserDeps {
  users: UserStore;
  hasher: PasswordHasher;
  sessions: SessionIssuer;
  audit: SecurityAudit;
  source: string;
  /** ADMIN_EMAILS (normalised): these accounts get the admin role when created. */
  adminEmails: readonly string[];
}

const NAME_MAX_LENGTH = 100;
// Control characters (Unicode Cc: C0, DEL, C1) have no place in a display name and break logs and UIs.
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Creates an account, records `user.registered` in the same transaction, and signs the user in. */
export async function registerUser(
  input: RegisterUserInput,
  deps: RegisterUserDeps,
): Promise<{ user: User; session: SessionTokens }> {
  const email = normaliseEmail(input.email);
  const name = input.name.normalize('NFKC').trim();
  const problems = validate({ email, name, password: input.password });
  if (problems.length)
    throw new AppError('VALIDATION_FAILED', 'Registration data is invalid', { fields: problems });

  // Fast path for the common duplicate; the unique index still decides races (the store maps it to CONFLICT).
  if (await deps.users.findByEmailWithCredentials(email)) throw emailTaken();

  const passwordHash = await deps.hasher.hash(input.password);
  const roles = rolesForNewAccount(email, deps.adminEmails);
  const user = await deps.users.create({ email, name, passwordHash, roles }, (created) => [
    createEvent<UserRegisteredData>({
      type: USER_REGISTERED,
      source: deps.source,
      subject: created.id,
      data: {
        user_id: created.id,
        email: created.email,
        name: created.name,
        roles: created.roles,
        registered_at: created.createdAt.toISOString(),
      },
    }),
  ]);
  await deps.audit.record({ userId: user.id, type: 'account_created', details: { method: 'password' } });
  // Registration signs the new user in: a session like any other sign-in.
  const session = await deps.sessions.start(user, { authMethod: 'password' });
  await deps.audit.record({
    userId: user.id,
    type: 'sign_in',
    details: { method: 'password', session_id: session.sessionId },
  });
  return { user, session };
}

export function emailTaken(): AppError {
  return new AppError('CONFLICT', 'An account with this email already exists', {
    fields: [{ field: 'email', message: 'is already registered' }],
  });
}

function validate(input: { email: string; name: string; password: string }): FieldError[] {
  const problems: FieldError[] = [];
  if (!isPlausibleEmail(input.email))
    problems.push({ field: 'email', message: 'must be a valid email address' });
  if (input.name.length === 0) problems.push({ field: 'name', message: 'must not be empty' });
  else if ([...input.name].length > NAME_MAX_LENGTH) {
    problems.push({ field: 'name', message: `must be at most ${NAME_MAX_LENGTH} characters` });
  } else if (CONTROL_CHARACTERS.test(input.name)) {
    problems.push({ field: 'name', message: 'must not contain control characters' });
  }
  problems.push(...passwordProblems(input.password, { email: input.email, name: input.name }));
  return problems;
}
