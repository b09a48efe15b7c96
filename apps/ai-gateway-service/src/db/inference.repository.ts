import { isUniqueViolation } from '@te/database';
import { enqueueEvent, type EventEnvelope } from '@te/events';
import type { InferenceAnswer } from '../domain/inference.js';
import type { InferenceStore } from '../domain/ports.js';
import type { Prisma } from './generated/prisma/client.js';
import type { AiGatewayDb } from './prisma-client.js';

/** Answers per (user_id, request_id), each stored with its ai.inference.completed event. */
export class InferenceRepository implements InferenceStore {
  constructor(
    private readonly db: AiGatewayDb,
    /** Called after a commit that wrote outbox events. */
    private readonly onCommitted: () => void = () => undefined,
  ) {}

  async findAnswer(userId: string, requestId: string, notBefore: Date): Promise<InferenceAnswer | undefined> {
    const row = await this.db.storedInference.findFirst({
      where: { userId, requestId, createdAt: { gte: notBefore } },
    });
    return row ? (row.response as unknown as InferenceAnswer) : undefined;
  }

  async saveAnswer(
    key: { userId: string; requestId: string; notBefore: Date },
    answer: InferenceAnswer,
    event: EventEnvelope,
  ): Promise<InferenceAnswer> {
    try {
      await this.db.$transaction(async (tx) => {
        // An answer older than the window no longer binds the key.
        await tx.storedInference.deleteMany({
          where: { userId: key.userId, requestId: key.requestId, createdAt: { lt: key.notBefore } },
        });
        await tx.storedInference.create({
          data: {
            userId: key.userId,
            requestId: key.requestId,
            inferenceId: answer.inferenceId,
            response: answer as unknown as Prisma.InputJsonObject,
          },
        });
        await enqueueEvent(tx, event);
      });
    } catch (error) {
      // A concurrent call with the same key stored first: its answer (and its one event) stand.
      if (!isUniqueViolation(error)) throw error;
      const first = await this.findAnswer(key.userId, key.requestId, key.notBefore);
      if (!first) throw error;
      return first;
    }
    this.onCommitted();
    return answer;
  }

  async recordFailure(event: EventEnvelope): Promise<void> {
    await enqueueEvent(this.db, event);
    this.onCommitted();
  }

  /** Drops answers older than `notBefore` (the idempotency window has passed). */
  async purgeOlderThan(notBefore: Date): Promise<number> {
    const { count } = await this.db.storedInference.deleteMany({ where: { createdAt: { lt: notBefore } } });
    return count;
  }
}
