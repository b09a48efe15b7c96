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
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
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
  issueAccessToken(user: User): Promise<AccessToken>;
}
