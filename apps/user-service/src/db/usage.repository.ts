import type {
  DailyUsage,
  DayRange,
  InferenceUsage,
  UsageLedger,
  UsageReader,
  UserModelUsage,
} from '../domain/usage.js';
import type { UserDb } from './prisma-client.js';

/** The client or the interactive-transaction client (the consumer writes inside its idempotency transaction). */
type Queryable = Pick<UserDb, '$executeRaw' | 'usageDaily'>;

export class UsageRepository implements UsageLedger, UsageReader {
  constructor(private readonly db: Queryable) {}

  /**
   * One statement: the row is created or incremented atomically (concurrent events for the same
   * user, day and model never lose an update), and only while the user exists, so a late event
   * cannot resurrect data of a deleted account. Counters are int64 added in SQL: exact.
   */
  async add(usage: InferenceUsage): Promise<boolean> {
    const written = await this.db.$executeRaw`
      INSERT INTO usage_daily AS u
        (user_id, day, model, requests, input_tokens, output_tokens, cost_micro_usd, updated_at)
      SELECT ${usage.userId}::uuid, ${usage.day}::date, ${usage.model}, 1,
             ${usage.inputTokens.toString()}::bigint, ${usage.outputTokens.toString()}::bigint,
             ${usage.costMicroUsd.toString()}::bigint, now()
      WHERE EXISTS (SELECT 1 FROM users WHERE id = ${usage.userId}::uuid)
      ON CONFLICT (user_id, day, model) DO UPDATE SET
        requests = u.requests + 1,
        input_tokens = u.input_tokens + EXCLUDED.input_tokens,
        output_tokens = u.output_tokens + EXCLUDED.output_tokens,
        cost_micro_usd = u.cost_micro_usd + EXCLUDED.cost_micro_usd,
        updated_at = now()`;
    return written === 1;
  }

  async daily(userId: string, range: DayRange): Promise<DailyUsage[]> {
    const rows = await this.db.usageDaily.findMany({
      where: { userId, day: { gte: dayDate(range.from), lte: dayDate(range.to) } },
      orderBy: [{ day: 'asc' }, { model: 'asc' }],
    });
    return rows.map((row) => ({
      day: row.day.toISOString().slice(0, 10),
      model: row.model,
      requests: BigInt(row.requests),
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      costMicroUsd: row.costMicroUsd,
    }));
  }

  async byUserAndModel(range: DayRange, limit: number): Promise<UserModelUsage[]> {
    const groups = await this.db.usageDaily.groupBy({
      by: ['userId', 'model'],
      where: { day: { gte: dayDate(range.from), lte: dayDate(range.to) } },
      _sum: { requests: true, inputTokens: true, outputTokens: true, costMicroUsd: true },
      // Ties broken by user and model so pages of equal cost are stable.
      orderBy: [{ _sum: { costMicroUsd: 'desc' } }, { userId: 'asc' }, { model: 'asc' }],
      take: limit,
    });
    return groups.map((group) => ({
      userId: group.userId,
      model: group.model,
      requests: BigInt(group._sum.requests ?? 0),
      inputTokens: group._sum.inputTokens ?? 0n,
      outputTokens: group._sum.outputTokens ?? 0n,
      costMicroUsd: group._sum.costMicroUsd ?? 0n,
    }));
  }
}

function dayDate(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}
