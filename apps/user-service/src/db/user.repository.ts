import { enqueueEvent, type EventEnvelope } from '@te/events';
import { isUniqueViolation } from '@te/database';
import { emailTaken } from '../domain/register-user.use-case.js';
import type { UserStore } from '../domain/ports.js';
import type { User, UserWithCredentials } from '../domain/user.js';
import type { UserDb } from './prisma-client.js';

const PUBLIC_FIELDS = {
  id: true,
  email: true,
  name: true,
  roles: true,
  locale: true,
  preferences: true,
  createdAt: true,
} as const;

type UserRow = { preferences: unknown } & Omit<User, 'preferences'>;

function toUser<T extends UserRow>(row: T): T & { preferences: Record<string, unknown> } {
  const preferences = row.preferences && typeof row.preferences === 'object' ? row.preferences : {};
  return { ...row, preferences: preferences as Record<string, unknown> };
}

export class UserRepository implements UserStore {
  constructor(
    private readonly db: UserDb,
    /** Called after a commit that wrote outbox events, so the relay publishes them at once. */
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async create(
    data: { email: string; name: string; passwordHash: string; roles: string[] },
    events: (user: User) => EventEnvelope[],
  ): Promise<User> {
    try {
      const user = await this.db.$transaction(async (tx) => {
        const created = toUser(await tx.user.create({ data, select: PUBLIC_FIELDS }));
        for (const event of events(created)) await enqueueEvent(tx, event);
        return created;
      });
      this.onEventsCommitted();
      return user;
    } catch (error) {
      if (isUniqueViolation(error, 'email')) throw emailTaken();
      throw error;
    }
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.db.user.findUnique({ where: { id }, select: PUBLIC_FIELDS });
    return row ? toUser(row) : undefined;
  }

  async findByEmailWithCredentials(email: string): Promise<UserWithCredentials | undefined> {
    const row = await this.db.user.findUnique({
      where: { email },
      select: { ...PUBLIC_FIELDS, passwordHash: true },
    });
    return row ? toUser(row) : undefined;
  }

  async findByIdWithCredentials(id: string): Promise<UserWithCredentials | undefined> {
    const row = await this.db.user.findUnique({
      where: { id },
      select: { ...PUBLIC_FIELDS, passwordHash: true },
    });
    return row ? toUser(row) : undefined;
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.user.update({ where: { id }, data: { passwordHash } });
  }
}
