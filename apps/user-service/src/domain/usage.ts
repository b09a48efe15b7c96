import { AppError, type FieldError } from '@te/platform';
import { usdToMicros } from './usage-cost.js';

/**
 * Usage analytics: `ai.inference.completed` events (published by ai-gateway-service, one per completed
 * inference) become per-user, per-UTC-day, per-model aggregates. Contract: docs/events.md.
 */
export const AI_INFERENCE_COMPLETED = 'ai.inference.completed';

/** Data of `ai.inference.completed` (envelope subject = user id). Producers add fields, never rename. */
export interface InferenceCompletedData {
  user_id: string;
  /** The resolved model, e.g. "openai/gpt-4o-mini". */
  model: string;
  input_tokens: number;
  output_tokens: number;
  /** US dollars, a decimal string with at most 6 fractional digits ("0.00125"). */
  cost_usd: string;
  /** RFC 3339 time the inference completed; its UTC date is the aggregate's day. */
  completed_at: string;
}

/** One inference, validated and converted to exact integers. */
export interface InferenceUsage {
  userId: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  model: string;
  inputTokens: bigint;
  outputTokens: bigint;
  costMicroUsd: bigint;
}

export interface UsageTotals {
  requests: bigint;
  inputTokens: bigint;
  outputTokens: bigint;
  costMicroUsd: bigint;
}

export interface DailyUsage extends UsageTotals {
  day: string;
  model: string;
}

export interface UserModelUsage extends UsageTotals {
  userId: string;
  model: string;
}

/** Inclusive range of UTC days, YYYY-MM-DD. */
export interface DayRange {
  from: string;
  to: string;
}

/** Writes aggregates (inside the consumer's transaction). */
export interface UsageLedger {
  /** Adds one inference to its (user, day, model) row; false when the user does not exist. */
  add(usage: InferenceUsage): Promise<boolean>;
}

export interface UsageReader {
  /** The user's rows in the range, oldest day first, then by model. */
  daily(userId: string, range: DayRange): Promise<DailyUsage[]>;
  /** Per user and model over the range, largest cost first. */
  byUserAndModel(range: DayRange, limit: number): Promise<UserModelUsage[]>;
}

export const MODEL_MAX_LENGTH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 3339 §5.6 date-time (T/Z case-insensitive, offset required); Date.parse then checks the values.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const CONTROL_CHARACTERS = /\p{Cc}/u;

/**
 * Validates the data of one event. Anything wrong here is wrong forever (a retry cannot fix it), so
 * the error names every bad field for whoever inspects the dead-letter queue.
 */
export function parseInferenceCompleted(data: unknown, subject?: string): InferenceUsage {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalid([{ field: 'data', message: 'must be an object' }]);
  }
  const d = data as Record<string, unknown>;
  const problems: FieldError[] = [];
  const check = (ok: boolean, field: string, message: string) => {
    if (!ok) problems.push({ field, message });
  };
  check(typeof d.user_id === 'string' && UUID.test(d.user_id), 'user_id', 'must be a UUID');
  check(
    subject === undefined || subject === d.user_id,
    'subject',
    'must equal data.user_id (the envelope subject is the user)',
  );
  check(
    typeof d.model === 'string' &&
      d.model.trim().length > 0 &&
      d.model.length <= MODEL_MAX_LENGTH &&
      !CONTROL_CHARACTERS.test(d.model),
    'model',
    `must be a non-empty string of at most ${MODEL_MAX_LENGTH} characters`,
  );
  for (const field of ['input_tokens', 'output_tokens'] as const) {
    const value = d[field];
    check(Number.isSafeInteger(value) && (value as number) >= 0, field, 'must be an integer ≥ 0');
  }
  const costMicroUsd = typeof d.cost_usd === 'string' ? usdToMicros(d.cost_usd) : undefined;
  check(
    costMicroUsd !== undefined,
    'cost_usd',
    'must be a decimal string ≥ 0 with at most 6 fractional digits',
  );
  const completedAt = typeof d.completed_at === 'string' ? parseRfc3339(d.completed_at) : undefined;
  check(completedAt !== undefined, 'completed_at', 'must be an RFC 3339 date-time');
  if (problems.length || costMicroUsd === undefined || completedAt === undefined) throw invalid(problems);

  return {
    userId: (d.user_id as string).toLowerCase(),
    day: new Date(completedAt).toISOString().slice(0, 10),
    model: d.model as string,
    inputTokens: BigInt(d.input_tokens as number),
    outputTokens: BigInt(d.output_tokens as number),
    costMicroUsd,
  };
}

/** Sums per model (ordered by model), for the totals of a range. */
export function totalsByModel(rows: DailyUsage[]): (UsageTotals & { model: string })[] {
  const totals = new Map<string, UsageTotals & { model: string }>();
  for (const row of rows) {
    const total = totals.get(row.model) ?? {
      model: row.model,
      requests: 0n,
      inputTokens: 0n,
      outputTokens: 0n,
      costMicroUsd: 0n,
    };
    total.requests += row.requests;
    total.inputTokens += row.inputTokens;
    total.outputTokens += row.outputTokens;
    total.costMicroUsd += row.costMicroUsd;
    totals.set(row.model, total);
  }
  return [...totals.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}

/** Milliseconds since the epoch, or undefined unless the text is an RFC 3339 date-time of a real calendar day. */
function parseRfc3339(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Date.parse rolls "02-30" over to March; a date that does not round-trip is not a calendar day.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function invalid(fields: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid ${AI_INFERENCE_COMPLETED} data`, { fields });
}
