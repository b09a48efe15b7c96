import { enqueueEvent } from '@te/events';
import type { Cursor, Message } from '../domain/conversation.js';
import type { EventsOf, MessageStore, NewMessage, PostOutcome } from '../domain/ports.js';
import type { ContextDb } from './prisma-client.js';
import { toMessage } from './rows.js';

export class MessageRepository implements MessageStore {
  constructor(
    private readonly db: ContextDb,
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async post(input: NewMessage, events: EventsOf<Message>): Promise<PostOutcome> {
    const outcome = await this.db
      .$transaction(async (tx): Promise<PostOutcome> => {
        const now = new Date();
        // Bumping the activity first locks the session row: a concurrent delete or retention run either
        // happened before (count 0: not found) or waits for this message to commit.
        const { count } = await tx.session.updateMany({
          where: { id: input.sessionId, userId: input.userId },
          data: { lastActivityAt: now },
        });
        if (count === 0) return { kind: 'session_not_found' };
        if (input.attachmentIds.length) {
          const found = await tx.attachment.findMany({
            where: { id: { in: input.attachmentIds }, sessionId: input.sessionId },
            select: { id: true },
          });
          const known = new Set(found.map((attachment) => attachment.id));
          const indexes = input.attachmentIds.flatMap((id, index) => (known.has(id) ? [] : [index]));
          // Thrown to roll back the activity bump; turned into the outcome below.
          if (indexes.length) throw new UnknownAttachments(indexes);
        }
        const message = toMessage(
          await tx.message.create({
            data: {
              sessionId: input.sessionId,
              userId: input.userId,
              role: 'user',
              content: input.content,
              model: input.model,
              mode: input.mode,
              attachmentIds: input.attachmentIds,
              status: 'stored',
              createdAt: now,
            },
          }),
        );
        for (const event of events(message)) await enqueueEvent(tx, event);
        return { kind: 'stored', message };
      })
      .catch((error: unknown) => {
        if (error instanceof UnknownAttachments)
          return { kind: 'unknown_attachments', indexes: error.indexes } as const;
        throw error;
      });
    if (outcome.kind === 'stored') this.onEventsCommitted();
    return outcome;
  }

  async list(
    userId: string,
    sessionId: string,
    page: { limit: number; after?: Cursor },
  ): Promise<Message[] | undefined> {
    const owned = await this.db.session.findFirst({ where: { id: sessionId, userId }, select: { id: true } });
    if (!owned) return undefined;
    const { after } = page;
    const rows = await this.db.message.findMany({
      where: {
        sessionId,
        // Keyset: rows strictly after the cursor in (created_at ASC, id ASC) order.
        ...(after && {
          OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
        }),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit,
    });
    return rows.map(toMessage);
  }
}

class UnknownAttachments extends Error {
  constructor(readonly indexes: number[]) {
    super('unknown attachments');
  }
}
