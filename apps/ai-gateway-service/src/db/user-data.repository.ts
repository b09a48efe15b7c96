import type { Prisma } from './generated/prisma/client.js';

/** Everything this service stores about one user: answers kept for idempotency and queued requests. */
export class UserDataRepository {
  constructor(private readonly tx: Prisma.TransactionClient) {}

  /** Deletes the user's stored answers and queued inferences (their prompts and answers with them). */
  async erase(userId: string): Promise<{ storedAnswers: number; queuedInferences: number }> {
    const stored = await this.tx.storedInference.deleteMany({ where: { userId } });
    const queued = await this.tx.queuedInference.deleteMany({ where: { userId } });
    return { storedAnswers: stored.count, queuedInferences: queued.count };
  }
}
