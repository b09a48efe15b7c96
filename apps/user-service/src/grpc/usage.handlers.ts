import type { AsyncHandlers, teUserV1 } from '@te/grpc';
import { getMyUsage } from '../domain/get-my-usage.use-case.js';
import { getUsageReport } from '../domain/get-usage-report.use-case.js';
import { microsToUsd } from '../domain/usage-cost.js';
import type { UsageReader, UsageTotals } from '../domain/usage.js';
import { caller, callerId } from './profile.handlers.js';

export interface UsageHandlerDeps {
  usage: UsageReader;
}

/** te.user.v1.UsageService: the caller's own usage, and the admin report across users. */
export function usageHandlers(deps: UsageHandlerDeps): AsyncHandlers<teUserV1.UsageServiceHandlers> {
  return {
    async GetMyUsage(request, ctx) {
      const usage = await getMyUsage(callerId(ctx), { from: request.from, to: request.to }, deps);
      return {
        daily: usage.daily.map((row) => usageRow(row, { day: row.day, model: row.model })),
        totals: usage.totals.map((row) => usageRow(row, { model: row.model })),
      };
    },

    async GetUsageReport(request, ctx) {
      const report = await getUsageReport(
        caller(ctx),
        { from: request.from, to: request.to, limit: request.limit },
        deps,
      );
      return { rows: report.rows.map((row) => usageRow(row, { userId: row.userId, model: row.model })) };
    },
  };
}

// int64 travels as decimal text (the loader's `longs: String`); cost as a 6-digit decimal string.
function usageRow(
  totals: UsageTotals,
  keys: { day?: string; model: string; userId?: string },
): teUserV1.UsageRow {
  return {
    day: keys.day ?? '',
    model: keys.model,
    userId: keys.userId ?? '',
    requests: totals.requests.toString(),
    inputTokens: totals.inputTokens.toString(),
    outputTokens: totals.outputTokens.toString(),
    costUsd: microsToUsd(totals.costMicroUsd),
  };
}
