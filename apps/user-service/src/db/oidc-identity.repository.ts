import { isUniqueViolation } from '@te/database';
import { enqueueEvent, type EventEnvelope } from '@te/events';
import { AppError } from '@te/platform';
import type { OidcIdentity, OidcIdentityStore } from '../domain/oidc-login.use-case.js';
import type { User } from '../domain/user.js';
import type { UserDb } from './prisma-client.js';

const USER_FIELDS = {
  id: true,
  email: true,
  name: true,
  roles: true,
  locale: true,
  preferences: true,
  createdAt: true,
} as const;

interface UserRow extends Omit<User, 'preferences'> {
  preferences: unknown;
}

function toUser(row: UserRow): User {
  const preferences = row.preferences && typeof row.preferences === 'object' ? row.preferences : {};
  return { ...row, preferences: preferences as Record<string, unknown> };
}

/** Accounts at OpenID Providers linked to users (table oidc_identities, unique on provider + subject). */
export class OidcIdentityRepository implements OidcIdentityStore {
  constructor(
    private readonly db: UserDb,
    /** Called after a commit that wrote outbox events, so the relay publishes them at once. */
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async findUser(provider: string, subject: string): Promise<User | undefined> {
    const row = await this.db.oidcIdentity.findUnique({
      where: { provider_subject: { provider, subject } },
      select: { user: { select: USER_FIELDS } },
    });
    return row ? toUser(row.user) : undefined;
  }

  async link(userId: string, identity: OidcIdentity): Promise<void> {
    try {
      await this.db.oidcIdentity.create({ data: { ...identity, userId } });
    } catch (error) {
      throw conflictOr(error);
    }
  }

  async createUser(
    user: { email: string; name: string; roles: string[] },
    identity: OidcIdentity,
    events: (user: User) => EventEnvelope[],
  ): Promise<User> {
    try {
      const created = await this.db.$transaction(async (tx) => {
        // No password: the account signs in through its providers until the user sets one.
        const row = toUser(
          await tx.user.create({ data: { ...user, passwordHash: null }, select: USER_FIELDS }),
        );
        await tx.oidcIdentity.create({ data: { ...identity, userId: row.id } });
        for (const event of events(row)) await enqueueEvent(tx, event);
        return row;
      });
      this.onEventsCommitted();
      return created;
    } catch (error) {
      throw conflictOr(error);
    }
  }
}

// The email or the (provider, subject) pair was taken by a concurrent request; the caller resolves again.
function conflictOr(error: unknown): unknown {
  return isUniqueViolation(error)
    ? new AppError('CONFLICT', 'The account or identity was created concurrently', { cause: error })
    : error;
}
