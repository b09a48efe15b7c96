import { AppError, type FieldError } from '@te/platform';
import type { DayRange } from './usage.js';

export const DEFAULT_RANGE_DAYS = 30;
/** A leap year, both ends included. Bounds the rows one request can read. */
export const MAX_RANGE_DAYS = 366;

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The inclusive UTC day range of a usage query. Missing `to` is today; missing `from` is the 30 days
 * ending at `to`. Every bad bound is named (VALIDATION_FAILED with fields `from`/`to`).
 */
export function resolveDayRange(input: { from?: string; to?: string }, now: Date = new Date()): DayRange {
  const problems: FieldError[] = [];
  const parse = (field: 'from' | 'to', value: string | undefined): number | undefined => {
    if (!value) return undefined;
    const time = parseDay(value);
    if (time === undefined) problems.push({ field, message: 'must be a date YYYY-MM-DD' });
    return time;
  };
  const fromInput = parse('from', input.from);
  const toInput = parse('to', input.to);
  if (problems.length) throw invalid(problems);

  const to = toInput ?? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = fromInput ?? to - (DEFAULT_RANGE_DAYS - 1) * DAY_MS;
  if (from > to) throw invalid([{ field: 'from', message: 'must not be after to' }]);
  if ((to - from) / DAY_MS + 1 > MAX_RANGE_DAYS) {
    throw invalid([{ field: 'from', message: `must be at most ${MAX_RANGE_DAYS} days before to` }]);
  }
  return { from: formatDay(from), to: formatDay(to) };
}

/** Milliseconds of a real calendar day at 00:00 UTC ("2026-02-30" is not one), else undefined. */
function parseDay(value: string): number | undefined {
  if (!DATE.test(value)) return undefined;
  const time = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(time) || formatDay(time) !== value ? undefined : time;
}

function formatDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function invalid(fields: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', 'The date range is invalid', { fields });
}
