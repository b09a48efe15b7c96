import { enqueueEvent } from '@te/events';
import type { Cursor, Session } from '../domain/conversation.js';
import type { DeletedSessions, EventsOf, SessionState, SessionStore } from '../domain/ports.js';
import type { Prisma } from './generated/prisma/client.js';
import type { SessionModel } from './generated/prisma/models.js';
import type { ContextDb } from './prisma-client.js';
import { toAttachmentSummary, toMessage, toSession } from './rows.js';

export class SessionRepository implements SessionStore {
  constructor(
    private readonly db: ContextDb,
    /** Called after a commit that wrote outbox events, so the relay publishes them at once. */
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async create(
    input: { userId: string; title: string; settings: Record<string, unknown> },
    events: EventsOf<Session>,
  ): Promise<Session> {
    const session = await this.db.$transaction(async (tx) => {
      const created = toSession(
        await tx.session.create({
          data: { userId: input.userId, title: input.title, settings: input.settings as object },
        }),
      );
      for (const event of events(created)) await enqueueEvent(tx, event);
      return created;
    });
    this.onEventsCommitted();
    return session;
  }

  async findOwned(userId: string, id: string): Promise<Session | undefined> {
    const row = await this.db.session.findFirst({ where: { id, userId } });
    return row ? toSession(row) : undefined;
  }

  async list(userId: string, page: { limit: number; after?: Cursor }): Promise<Session[]> {
    const { after } = page;
    const rows = await this.db.session.findMany({
      where: {
        userId,
        // Keyset: rows strictly older than the cursor in (created_at DESC, id DESC) order.
        ...(after && {
          OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
        }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
    return rows.map(toSession);
  }

  async update(
    userId: string,
    id: string,
    changes: { title?: string; settings?: Record<string, unknown> },
  ): Promise<Session | undefined> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.session.updateMany({
        where: { id, userId },
        data: {
          ...(changes.title !== undefined && { title: changes.title }),
          ...(changes.settings !== undefined && { settings: changes.settings as object }),
          // An empty PATCH still answers the current session; updated_at moves only on a change.
        },
      });
      if (count === 0) return undefined;
      const row = await tx.session.findUnique({ where: { id } });
      return row ? toSession(row) : undefined;
    });
  }

  async delete(userId: string, id: string, events: EventsOf<Session>): Promise<DeletedSessions | undefined> {
    const deleted = await this.db.$transaction(async (tx) => {
      // Locked first, so an upload to it waits and then finds it gone: every attachment that goes with
      // it is among those whose keys are read below.
      const [row] = await tx.$queryRaw<SessionModel[]>`
        SELECT id::text AS "id", user_id::text AS "userId", title, settings,
               created_at AS "createdAt", updated_at AS "updatedAt", last_activity_at AS "lastActivityAt"
        FROM sessions WHERE id = ${id}::uuid AND user_id = ${userId}::uuid FOR UPDATE`;
      if (!row) return undefined;
      const objectKeys = await objectKeysOf(tx, [id]);
      // ON DELETE CASCADE (schema.prisma) removes the messages and attachments in this statement.
      const { count } = await tx.session.deleteMany({ where: { id, userId } });
      if (count === 0) return undefined;
      const session = toSession(row);
      for (const event of events(session)) await enqueueEvent(tx, event);
      return { sessions: [session], objectKeys };
    });
    if (deleted) this.onEventsCommitted();
    return deleted;
  }

  async deleteIdle(cutoff: Date, limit: number, events: EventsOf<Session>): Promise<DeletedSessions> {
    const deleted = await this.db.$transaction(async (tx) => {
      // Locked, so a message being posted meanwhile waits and then finds its session gone (NOT_FOUND)
      // rather than landing in a deleted one; SKIP LOCKED lets another replica take other rows.
      const rows = await tx.$queryRaw<SessionModel[]>`
        SELECT id::text AS "id", user_id::text AS "userId", title, settings,
               created_at AS "createdAt", updated_at AS "updatedAt", last_activity_at AS "lastActivityAt"
        FROM sessions WHERE last_activity_at < ${cutoff}
        ORDER BY last_activity_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return { sessions: [], objectKeys: [] };
      const ids = rows.map((row) => row.id);
      const objectKeys = await objectKeysOf(tx, ids);
      await tx.session.deleteMany({ where: { id: { in: ids } } });
      const sessions = rows.map(toSession);
      for (const session of sessions) for (const event of events(session)) await enqueueEvent(tx, event);
      return { sessions, objectKeys };
    });
    if (deleted.sessions.length) this.onEventsCommitted();
    return deleted;
  }

  /** Which of `objectKeys` some attachment row (any session, any user) still references. */
  async referencedObjectKeys(objectKeys: string[]): Promise<Set<string>> {
    if (objectKeys.length === 0) return new Set();
    const rows = await this.db.attachment.findMany({
      where: { objectKey: { in: objectKeys } },
      select: { objectKey: true },
      distinct: ['objectKey'],
    });
    return new Set(rows.map((row) => row.objectKey));
  }

  async loadState(sessionId: string, recentMessages: number): Promise<SessionState | undefined> {
    // One snapshot, so the messages and attachments belong to the session row read with them.
    return this.db.$transaction(
      async (tx) => {
        const row = await tx.session.findUnique({ where: { id: sessionId } });
        if (!row) return undefined;
        const messages = await tx.message.findMany({
          where: { sessionId },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: recentMessages,
        });
        const attachments = await tx.attachment.findMany({
          where: { sessionId },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: {
            id: true,
            contentType: true,
            status: true,
            width: true,
            height: true,
            ocrText: true,
            createdAt: true,
          },
        });
        return {
          session: toSession(row),
          recentMessages: messages.reverse().map(toMessage),
          attachments: attachments.map(toAttachmentSummary),
        };
      },
      { isolationLevel: 'RepeatableRead' },
    );
  }
}

type Tx = Prisma.TransactionClient;

/** The distinct object keys of the sessions' attachments (read before the rows go). */
async function objectKeysOf(tx: Tx, sessionIds: string[]): Promise<string[]> {
  const rows = await tx.attachment.findMany({
    where: { sessionId: { in: sessionIds } },
    select: { objectKey: true },
    distinct: ['objectKey'],
  });
  return rows.map((row) => row.objectKey);
}
