import { isUniqueViolation } from '@te/database';
import { enqueueEvent, type EventEnvelope } from '@te/events';
import type { InferInput } from '../domain/infer-input.js';
import type { InferenceAnswer } from '../domain/inference.js';
import type {
  ClaimedInference,
  QueuedInference,
  QueuedInferenceStatus,
  QueuedInferenceStore,
} from '../domain/queued-inference.js';
import type { ChatMessage, ContentPart } from '../providers/index.js';
import { Prisma, type QueuedInference as Row } from './generated/prisma/client.js';
import type { AiGatewayDb } from './prisma-client.js';

const UNSETTLED: QueuedInferenceStatus[] = ['queued', 'running'];

/**
 * queued_inferences: the request of each submitted inference waits here (its job on the queue carries
 * only the key), and is cleared when the inference is settled. Settling writes are conditional on the
 * row being unsettled and carry their events in the same transaction, so each happens once.
 */
export class QueuedInferenceRepository implements QueuedInferenceStore {
  constructor(
    private readonly db: AiGatewayDb,
    /** Called after a commit that wrote outbox events. */
    private readonly onCommitted: () => void = () => undefined,
  ) {}

  async find(userId: string, requestId: string, notBefore: Date): Promise<QueuedInference | undefined> {
    const row = await this.db.queuedInference.findFirst({
      where: { userId, requestId, createdAt: { gte: notBefore } },
      omit: { request: true },
    });
    return row ? toQueuedInference(row) : undefined;
  }

  async enqueue(
    input: InferInput,
    userId: string,
    notBefore: Date,
    event: EventEnvelope,
  ): Promise<QueuedInference> {
    try {
      const row = await this.db.$transaction(async (tx) => {
        // One older than the idempotency window no longer binds the key.
        await tx.queuedInference.deleteMany({
          where: { userId, requestId: input.requestId, createdAt: { lt: notBefore } },
        });
        const created = await tx.queuedInference.create({
          data: {
            userId,
            requestId: input.requestId,
            model: input.model,
            status: 'queued',
            metadata: input.metadata,
            request: encodeInput(input),
          },
          omit: { request: true },
        });
        await enqueueEvent(tx, event);
        return created;
      });
      this.onCommitted();
      return toQueuedInference(row);
    } catch (error) {
      // A concurrent Submit with the same key stored first: its inference (and its one job) stand.
      if (!isUniqueViolation(error)) throw error;
      const first = await this.find(userId, input.requestId, notBefore);
      if (!first) throw error;
      return first;
    }
  }

  async saveCompleted(input: InferInput, userId: string, answer: InferenceAnswer): Promise<QueuedInference> {
    const row = await this.db.queuedInference.upsert({
      where: { userId_requestId: { userId, requestId: input.requestId } },
      create: {
        userId,
        requestId: input.requestId,
        model: input.model,
        status: 'completed',
        metadata: input.metadata,
        response: answer as unknown as Prisma.InputJsonObject,
        finishedAt: new Date(),
      },
      update: {},
      omit: { request: true },
    });
    return toQueuedInference(row);
  }

  async claim(userId: string, requestId: string, now: Date): Promise<ClaimedInference | undefined> {
    const rows = await this.db.queuedInference.updateManyAndReturn({
      where: { userId, requestId, status: { in: UNSETTLED } },
      data: { status: 'running', attempts: { increment: 1 }, startedAt: now },
    });
    const row = rows[0];
    if (!row?.request) return undefined;
    return { inference: toQueuedInference(row), input: decodeInput(row.request) };
  }

  complete(
    key: { userId: string; requestId: string },
    answer: InferenceAnswer,
    events: EventEnvelope[],
    now: Date,
  ): Promise<boolean> {
    return this.settle(
      key,
      { status: 'completed', response: answer as unknown as Prisma.InputJsonObject, finishedAt: now },
      events,
    );
  }

  fail(
    key: { userId: string; requestId: string },
    error: { code: string; message: string },
    events: EventEnvelope[],
    now: Date,
  ): Promise<boolean> {
    return this.settle(
      key,
      { status: 'failed', errorCode: error.code, errorMessage: error.message, finishedAt: now },
      events,
    );
  }

  async listUnsettled(submittedBefore: Date, limit: number): Promise<QueuedInference[]> {
    const rows = await this.db.queuedInference.findMany({
      where: { status: { in: UNSETTLED }, createdAt: { lt: submittedBefore } },
      orderBy: { createdAt: 'asc' },
      take: limit,
      omit: { request: true },
    });
    return rows.map(toQueuedInference);
  }

  async purgeOlderThan(notBefore: Date): Promise<number> {
    const { count } = await this.db.queuedInference.deleteMany({ where: { createdAt: { lt: notBefore } } });
    return count;
  }

  private async settle(
    key: { userId: string; requestId: string },
    data: Prisma.QueuedInferenceUpdateManyMutationInput,
    events: EventEnvelope[],
  ): Promise<boolean> {
    const settled = await this.db.$transaction(async (tx) => {
      const { count } = await tx.queuedInference.updateMany({
        where: { userId: key.userId, requestId: key.requestId, status: { in: UNSETTLED } },
        // The request (possibly megabytes of images) is not kept once it is answered.
        data: { ...data, request: Prisma.DbNull },
      });
      if (count === 0) return false;
      for (const event of events) await enqueueEvent(tx, event);
      return true;
    });
    if (settled && events.length) this.onCommitted();
    return settled;
  }
}

function toQueuedInference(row: Omit<Row, 'request'>): QueuedInference {
  return {
    userId: row.userId,
    requestId: row.requestId,
    model: row.model,
    status: row.status as QueuedInferenceStatus,
    metadata: row.metadata as Record<string, string>,
    ...(row.response ? { answer: row.response as unknown as InferenceAnswer } : {}),
    ...(row.errorCode ? { error: { code: row.errorCode, message: row.errorMessage ?? '' } } : {}),
    attempts: row.attempts,
    createdAt: row.createdAt,
    ...(row.finishedAt ? { finishedAt: row.finishedAt } : {}),
  };
}

/** InferInput as JSON: image bytes as base64; every other field (present or added later) as is. */
type StoredPart = { type: 'text'; text: string } | { type: 'image'; mediaType: string; base64: string };

function encodeInput(input: InferInput): Prisma.InputJsonObject {
  return {
    ...input,
    messages: input.messages.map((message) => ({
      role: message.role,
      content: message.content.map((part): StoredPart =>
        part.type === 'text'
          ? part
          : { type: 'image', mediaType: part.mediaType, base64: Buffer.from(part.data).toString('base64') },
      ),
    })),
  } as unknown as Prisma.InputJsonObject;
}

function decodeInput(stored: Prisma.JsonValue): InferInput {
  const input = stored as unknown as Omit<InferInput, 'messages'> & {
    messages: { role: ChatMessage['role']; content: StoredPart[] }[];
  };
  return {
    ...input,
    messages: input.messages.map((message) => ({
      role: message.role,
      content: message.content.map((part): ContentPart =>
        part.type === 'text'
          ? part
          : {
              type: 'image',
              mediaType: part.mediaType as Extract<ContentPart, { type: 'image' }>['mediaType'],
              data: new Uint8Array(Buffer.from(part.base64, 'base64')),
            },
      ),
    })),
  };
}
