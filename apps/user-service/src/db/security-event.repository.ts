import { getRequestContext, type Logger } from '@te/platform';
import type { RecordedSecurityEvent, SecurityAudit, SecurityEventInput } from '../domain/security-audit.js';
import type { UserDb } from './prisma-client.js';

export class SecurityEventRepository implements SecurityAudit {
  constructor(
    private readonly db: UserDb,
    private readonly logger: Logger,
  ) {}

  async record(event: SecurityEventInput): Promise<void> {
    const client = getRequestContext()?.client;
    try {
      await this.db.securityEvent.create({
        data: {
          userId: event.userId ?? null,
          type: event.type,
          ip: client?.ip ?? null,
          userAgent: client?.userAgent ?? null,
          details: (event.details ?? {}) as object,
        },
      });
    } catch (error) {
      // The operation it describes has happened; losing the row must not undo it. The log keeps it.
      this.logger.error('security event could not be recorded', {
        security_event: event.type,
        user_id: event.userId,
        err: error,
      });
    }
  }

  async list(
    userId: string,
    options: { limit: number; before?: { createdAt: Date; id: string } },
  ): Promise<RecordedSecurityEvent[]> {
    const before = options.before;
    const rows = await this.db.securityEvent.findMany({
      where: {
        userId,
        ...(before
          ? {
              OR: [
                { createdAt: { lt: before.createdAt } },
                { createdAt: before.createdAt, id: { lt: before.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: options.limit,
      select: { id: true, type: true, ip: true, userAgent: true, details: true, createdAt: true },
    });
    return rows.map((row) => ({ ...row, details: (row.details ?? {}) as Record<string, unknown> }));
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const { count } = await this.db.securityEvent.deleteMany({ where: { createdAt: { lt: cutoff } } });
    return count;
  }
}
