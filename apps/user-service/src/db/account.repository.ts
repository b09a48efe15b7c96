import { enqueueEvent, type EventEnvelope } from '@te/events';
import type { AccountStore } from '../domain/ports.js';
import type { UserDb } from './prisma-client.js';

export class AccountRepository implements AccountStore {
  constructor(
    private readonly db: UserDb,
    /** Called after a commit that wrote outbox events, so the relay publishes them at once. */
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async updateProfile(
    id: string,
    changes: { name?: string; locale?: string; preferences?: Record<string, unknown> },
  ): Promise<boolean> {
    const { count } = await this.db.user.updateMany({
      where: { id },
      data: {
        ...(changes.name !== undefined && { name: changes.name }),
        ...(changes.locale !== undefined && { locale: changes.locale }),
        ...(changes.preferences !== undefined && { preferences: changes.preferences as object }),
      },
    });
    return count === 1;
  }

  async delete(
    id: string,
    events: (deleted: { sessionIds: string[] }) => EventEnvelope[],
  ): Promise<{ sessionIds: string[]; apiKeyIds: string[] } | undefined> {
    const deleted = await this.db.$transaction(async (tx) => {
      // Lock the account first. A sign-in racing with the deletion inserts its session under a foreign
      // key check, which waits for this lock and then fails; so no session can appear after the list
      // below is read, and none escapes revocation at the gateway.
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM users WHERE id = ${id}::uuid FOR UPDATE`;
      if (locked.length === 0) return undefined;
      const sessions = await tx.session.findMany({ where: { userId: id }, select: { id: true } });
      const apiKeys = await tx.apiKey.findMany({ where: { userId: id }, select: { id: true } });
      // ON DELETE CASCADE (schema.prisma) removes sessions, refresh tokens, API keys, OIDC identities,
      // security events and usage rows in this same statement.
      await tx.user.delete({ where: { id } });
      const sessionIds = sessions.map((session) => session.id);
      for (const event of events({ sessionIds })) await enqueueEvent(tx, event);
      return { sessionIds, apiKeyIds: apiKeys.map((key) => key.id) };
    });
    if (deleted) this.onEventsCommitted();
    return deleted;
  }
}
