/**
 * What happens to a message whose handler failed. Pure functions: the consumer applies the decision.
 *
 * `attempts` counts handler runs that already failed before this one (0 on first delivery). It travels
 * in our own header rather than being read from `x-death`, whose shape RabbitMQ changed in 3.13/4.0.
 */
export const ATTEMPTS_HEADER = 'x-attempts';
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 30000];

export type FailureDecision =
  | {
      action: 'retry';
      /** 1-based: the message goes to `<queue>.retry.<retry>` */ retry: number;
      delayMs: number;
      attempts: number;
    }
  | { action: 'dead-letter'; attempts: number };

export function decideAfterFailure(
  previousAttempts: number,
  retryDelaysMs: readonly number[],
): FailureDecision {
  const attempts = previousAttempts + 1;
  if (previousAttempts < retryDelaysMs.length) {
    return {
      action: 'retry',
      retry: previousAttempts + 1,
      delayMs: retryDelaysMs[previousAttempts],
      attempts,
    };
  }
  return { action: 'dead-letter', attempts };
}

/** Reads the attempt count; a missing or garbled header means a first delivery. */
export function readAttempts(headers: Record<string, unknown> | undefined): number {
  const raw = headers?.[ATTEMPTS_HEADER];
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Delays become per-queue TTLs: each must be a positive integer, and the list stays short. */
export function validateRetryDelays(retryDelaysMs: readonly number[]): void {
  if (retryDelaysMs.length > 10 || retryDelaysMs.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new RangeError(
      `retryDelaysMs must be at most 10 positive integers, got ${JSON.stringify(retryDelaysMs)}`,
    );
  }
}
