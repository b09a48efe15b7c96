import { enqueueEvent, type EventEnvelope } from '@te/events';
import type { Cursor, Message, ReplyContent } from '../domain/conversation.js';
import type { EventsOf, MessageStore, NewMessage, PostOutcome } from '../domain/ports.js';
import type { ContextDb } from './prisma-client.js';
import { toMessage } from './rows.js';
import { AppError } from '@te/platform';

export class MessageRepository implements MessageStore {
  constructor(
    private readonly db: ContextDb,
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async post(
    input: NewMessage,
    events: (message: Message, reply?: Message) => EventEnvelope[],
  ): Promise<PostOutcome> {
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
        // The pending reply sorts right after its question (created_at + 1 ms; ids break ties).
        const reply = input.withPendingReply
          ? toMessage(
              await tx.message.create({
                data: {
                  sessionId: input.sessionId,
                  userId: input.userId,
                  role: 'assistant',
                  content: '',
                  mode: input.mode,
                  status: 'pending',
                  replyToId: message.id,
                  createdAt: new Date(now.getTime() + 1),
                },
              }),
            )
          : undefined;
        for (const event of events(message, reply)) await enqueueEvent(tx, event);
        return { kind: 'stored', message, ...(reply && { reply }) };
      })
      .catch((error: unknown) => {
        if (error instanceof UnknownAttachments)
          return { kind: 'unknown_attachments', indexes: error.indexes } as const;
        throw error;
      });
    if (outcome.kind === 'stored') this.onEventsCommitted();
    return outcome;
  }

  async find(id: string): Promise<Message | undefined> {
    const row = await this.db.message.findUnique({ where: { id } });
    return row ? toMessage(row) : undefined;
  }

  async history(sessionId: string, before: Cursor, limit: number): Promise<Message[]> {
    const rows = await this.db.message.findMany({
      where: {
        sessionId,
        OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.reverse().map(toMessage);
  }

  async saveReply(question: Message, reply: ReplyContent, events: EventsOf<Message>): Promise<Message> {
    const existing = () => this.db.message.findUnique({ where: { replyToId: question.id } });
    const saved = await this.db
      .$transaction(async (tx) => {
        const message = toMessage(
          await tx.message.create({
            data: {
              sessionId: question.sessionId,
              userId: question.userId,
              role: 'assistant',
              content: reply.content,
              model: reply.model,
              mode: question.mode,
              status: 'completed',
              replyToId: question.id,
              inputTokens: reply.inputTokens,
              outputTokens: reply.outputTokens,
              costUsd: reply.costUsd,
            },
          }),
        );
        for (const event of events(message)) await enqueueEvent(tx, event);
        return message;
      })
      .catch(async (error: unknown) => {
        const code = (error as { code?: string }).code;
        // P2002: reply_to_id is unique, a reply to this question exists (a retried call): keep it.
        if (code === 'P2002') {
          const row = await existing();
          if (row) return toMessage(row);
        }
        // P2003: the session went away meanwhile (its messages with it).
        if (code === 'P2003') throw new AppError('NOT_FOUND', 'Session not found');
        throw error;
      });
    this.onEventsCommitted();
    return saved;
  }

  async settleReply(
    replyId: string,
    outcome: { reply: ReplyContent } | { errorCode: string },
    events: EventsOf<Message>,
  ): Promise<Message | undefined> {
    const data =
      'reply' in outcome
        ? {
            status: 'completed' as const,
            content: outcome.reply.content,
            model: outcome.reply.model,
            inputTokens: outcome.reply.inputTokens,
            outputTokens: outcome.reply.outputTokens,
            costUsd: outcome.reply.costUsd,
          }
        : { status: 'failed' as const, errorCode: outcome.errorCode };
    const settled = await this.db.$transaction(async (tx) => {
      // Only a pending reply changes: a redelivered job finds it settled and writes nothing.
      const { count } = await tx.message.updateMany({ where: { id: replyId, status: 'pending' }, data });
      if (count === 0) return undefined;
      const message = toMessage(await tx.message.findUniqueOrThrow({ where: { id: replyId } }));
      for (const event of events(message)) await enqueueEvent(tx, event);
      return message;
    });
    if (settled) this.onEventsCommitted();
    return settled;
  }

  async stalePending(cutoff: Date, limit: number): Promise<string[]> {
    const rows = await this.db.message.findMany({
      where: { status: 'pending', createdAt: { lt: cutoff } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      select: { id: true },
    });
    return rows.map((row) => row.id);
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
