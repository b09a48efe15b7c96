import { AppError, ROLES, SCOPES, type FieldError, type Principal } from '@te/platform';
import { resolveDayRange } from './usage-range.js';
import type { DayRange, UsageReader, UserModelUsage } from './usage.js';

export const REPORT_DEFAULT_LIMIT = 100;
export const REPORT_MAX_LIMIT = 1000;

/**
 * Usage across users, per user and model, largest cost first. Admins only: the gateway checks the
 * `admin:usage:read` scope, and this service checks role and scope again (defence in depth: a route
 * wired without its scope must not open the report).
 */
export async function getUsageReport(
  caller: Pick<Principal, 'roles' | 'scopes'>,
  input: { from?: string; to?: string; limit?: number },
  deps: { usage: UsageReader; now?: () => Date },
): Promise<{ range: DayRange; rows: UserModelUsage[] }> {
  if (!caller.roles.includes(ROLES.admin) || !caller.scopes.includes(SCOPES.adminUsageRead)) {
    throw new AppError('FORBIDDEN', 'The usage report is for administrators');
  }
  const limit = input.limit || REPORT_DEFAULT_LIMIT;
  // Every bad parameter in one answer: the range's problems and the limit's.
  const problems: FieldError[] = [];
  let range: DayRange | undefined;
  try {
    range = resolveDayRange(input, deps.now?.() ?? new Date());
  } catch (error) {
    if (!(error instanceof AppError) || !error.fields) throw error;
    problems.push(...error.fields);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > REPORT_MAX_LIMIT) {
    problems.push({ field: 'limit', message: `must be an integer from 1 to ${REPORT_MAX_LIMIT}` });
  }
  if (!range || problems.length) {
    throw new AppError('VALIDATION_FAILED', 'The report parameters are invalid', { fields: problems });
  }
  return { range, rows: await deps.usage.byUserAndModel(range, limit) };
}
