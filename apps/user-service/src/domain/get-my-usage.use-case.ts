import { resolveDayRange } from './usage-range.js';
import {
  totalsByModel,
  type DailyUsage,
  type DayRange,
  type UsageReader,
  type UsageTotals,
} from './usage.js';

export interface MyUsage {
  range: DayRange;
  /** One row per day and model, oldest first. */
  daily: DailyUsage[];
  /** One row per model over the whole range. */
  totals: (UsageTotals & { model: string })[];
}

/** The caller's own usage in [from, to] (defaults: the last 30 days). Never another user's. */
export async function getMyUsage(
  userId: string,
  input: { from?: string; to?: string },
  deps: { usage: UsageReader; now?: () => Date },
): Promise<MyUsage> {
  const range = resolveDayRange(input, deps.now?.() ?? new Date());
  const daily = await deps.usage.daily(userId, range);
  return { range, daily, totals: totalsByModel(daily) };
}
