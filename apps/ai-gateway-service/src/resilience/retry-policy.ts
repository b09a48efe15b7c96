import type { ProviderError } from '../providers/index.js';

export interface RetrySettings {
  /** Attempts per version, the first included (1: no retries). */
  maxAttempts: number;
  /** The back-off's first ceiling; it doubles each retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After waited for on the same provider; a longer one moves on to the next version. */
  maxRetryAfterMs: number;
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | {
      retry: false;
      why: 'not_retryable' | 'attempts_exhausted' | 'retry_after_too_long' | 'deadline';
    };

/**
 * When to call the same provider again: only for `retryable` errors that did not break a stream
 * midway (`partial`), at most maxAttempts times, after an exponential back-off with full jitter
 * (a uniform wait in [0, min(max, base × 2^(n-1))], AWS Architecture Blog, "Exponential Backoff And
 * Jitter"), and never sooner than the provider's Retry-After. A wait that would pass the call's
 * deadline, or a Retry-After above the cap, is not waited out: the caller moves on to the next version.
 */
export class RetryPolicy {
  constructor(
    private readonly settings: RetrySettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** `attempt` is the 1-based number of the attempt that just failed with `error`. */
  decide(error: ProviderError, attempt: number, now: number, deadline?: number): RetryDecision {
    if (!error.retryable || error.partial) return { retry: false, why: 'not_retryable' };
    if (attempt >= this.settings.maxAttempts) return { retry: false, why: 'attempts_exhausted' };
    const retryAfter = error.retryAfterMs;
    if (retryAfter !== undefined && retryAfter > this.settings.maxRetryAfterMs)
      return { retry: false, why: 'retry_after_too_long' };
    const delayMs = Math.max(retryAfter ?? 0, this.backoff(attempt));
    if (deadline !== undefined && now + delayMs >= deadline) return { retry: false, why: 'deadline' };
    return { retry: true, delayMs };
  }

  /** Full jitter: uniform in [0, min(maxDelayMs, baseDelayMs × 2^(attempt-1))]. */
  backoff(attempt: number): number {
    const ceiling = Math.min(this.settings.maxDelayMs, this.settings.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.random() * ceiling);
  }
}
