import type { EventEnvelope } from '@te/events';
import type { User, UserWithCredentials } from './user.js';

/** Persistence of users; `create` writes the user and its events in one transaction (outbox). */
export interface UserStore {
  create(
    user: { email: string; name: string; passwordHash: string; roles: string[] },
    events: (user: User) => EventEnvelope[],
  ): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmailWithCredentials(email: string): Promise<UserWithCredentials | undefined>;
  findByIdWithCredentials(id: string): Promise<UserWithCredentials | undefined>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
}

/** The caller's own account: profile changes, and deletion with its events in the same transaction. */
export interface AccountStore {
  /** Applies only the fields present; false when the account does not exist. */
  updateProfile(
    id: string,
    changes: { name?: string; locale?: string; preferences?: Record<string, unknown> },
  ): Promise<boolean>;
  /**
   * Deletes the account and everything that cascades from it. Resolves with the ids of the sessions and
   * API keys it had, or undefined when there is no such account.
   */
  delete(
    id: string,
    events: (deleted: { sessionIds: string[] }) => EventEnvelope[],
  ): Promise<{ sessionIds: string[]; apiKeyIds: string[] } | undefined>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean;
  /** A hash of a random password, verified against when the account does not exist (equal timing). */
  readonly decoyHash: Promise<string>;
}

export interface AccessToken {
  token: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface TokenIssuer {
  /** Every access token belongs to a session (its `sid` claim), so revoking the session stops it. */
  issueAccessToken(user: User, sessionId: string): Promise<AccessToken>;
}

/** What a sign-in hands out: an access token and the first refresh token of a new session. */
export interface SessionTokens {
  sessionId: string;
  accessToken: AccessToken;
  refreshToken: string;
  refreshTokenExpiresIn: number;
}

/** Opens sign-in sessions (register, login, OIDC); implemented with refresh-token families. */
export interface SessionIssuer {
  /** `authMethod`: 'password' or 'oidc:<provider>'. The client's IP and user agent come from the request context. */
  start(user: User, options: { authMethod: string }): Promise<SessionTokens>;
}
