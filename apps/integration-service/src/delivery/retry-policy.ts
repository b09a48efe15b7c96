/** When to try a failed delivery again (decision 0022). All durations in milliseconds. */
export interface RetryPolicy {
  /** Delay before each attempt of a sequence: [0] from the event (or replay), then after each failure. */
  schedule: readonly number[];
  /** A receiver's Retry-After is honoured up to this long. */
  retryAfterMaxMs: number;
}

/**
 * The delay before the next attempt after `attemptsMade` failed ones, or undefined when the schedule
 * has run out. Never earlier than the receiver asked (Retry-After, capped), never earlier than the
 * schedule.
 */
export function nextAttemptDelay(
  policy: RetryPolicy,
  attemptsMade: number,
  retryAfterMs?: number,
): number | undefined {
  const step = policy.schedule[attemptsMade];
  if (step === undefined) return undefined;
  const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, policy.retryAfterMaxMs);
  return Math.max(step, asked);
}
