import type { UserDataEraser } from '../domain/erase-user-data.use-case.js';
import type { ContextDb } from './prisma-client.js';

/** The client or the interactive-transaction client (the consumer erases inside its idempotency transaction). */
type Queryable = Pick<ContextDb, 'session' | 'message' | 'attachment'>;

export class UserDataRepository implements UserDataEraser {
  constructor(private readonly db: Queryable) {}

  async eraseUser(userId: string): Promise<string[]> {
    const sessions = await this.db.session.findMany({ where: { userId }, select: { id: true } });
    // Sessions cascade to their messages and attachments; the user's rows in anyone else's session
    // (none today: a session has one owner) are removed by user id too.
    await this.db.session.deleteMany({ where: { userId } });
    await this.db.message.deleteMany({ where: { userId } });
    await this.db.attachment.deleteMany({ where: { userId } });
    return sessions.map((session) => session.id);
  }
}
