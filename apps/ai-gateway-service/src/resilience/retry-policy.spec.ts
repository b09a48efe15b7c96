import { ProviderError } from '../providers/index.js';
import { RetryPolicy } from './retry-policy.js';

const settings = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };
const failure = (options: Partial<ConstructorParameters<typeof ProviderError>[2]> = {}) =>
  new ProviderError('UNAVAILABLE', 'The model provider is not available', {
    provider: 'fake',
    retryable: true,
    reason: 'upstream_error',
    ...options,
  });

describe('retry policy', () => {
  it('When retries follow each other, then the back-off ceiling doubles up to the maximum, with full jitter', () => {
    const top = new RetryPolicy(settings, () => 0.999999);
    expect([1, 2, 3, 4, 5].map((attempt) => top.backoff(attempt))).toEqual([100, 200, 400, 800, 1_000]);
    const bottom = new RetryPolicy(settings, () => 0);
    expect(bottom.backoff(3)).toBe(0);
    const middle = new RetryPolicy(settings, () => 0.5);
    expect(middle.backoff(2)).toBe(100);
  });

  it('When the error is retryable and attempts remain, then it is retried after the back-off', () => {
    const policy = new RetryPolicy(settings, () => 0.5);
    expect(policy.decide(failure(), 1, 0)).toEqual({ retry: true, delayMs: 50 });
    expect(policy.decide(failure(), 3, 0)).toEqual({ retry: true, delayMs: 200 });
    expect(policy.decide(failure(), 4, 0)).toEqual({ retry: false, why: 'attempts_exhausted' });
  });

  it('When the error is not retryable or broke a stream midway, then it is not retried', () => {
    const policy = new RetryPolicy(settings, () => 0.5);
    expect(policy.decide(failure({ retryable: false, reason: 'provider_auth' }), 1, 0)).toEqual({
      retry: false,
      why: 'not_retryable',
    });
    expect(policy.decide(failure({ partial: true }), 1, 0)).toEqual({ retry: false, why: 'not_retryable' });
  });

  it('When the provider sends Retry-After, then the wait is at least that long', () => {
    const policy = new RetryPolicy(settings, () => 0.5);
    expect(policy.decide(failure({ retryAfterMs: 1_500 }), 1, 0)).toEqual({ retry: true, delayMs: 1_500 });
    // A Retry-After shorter than the back-off does not shorten it.
    expect(policy.decide(failure({ retryAfterMs: 10 }), 3, 0)).toEqual({ retry: true, delayMs: 200 });
  });

  it('When Retry-After exceeds the cap, then this provider is not retried', () => {
    const policy = new RetryPolicy(settings, () => 0.5);
    expect(policy.decide(failure({ retryAfterMs: 5_001 }), 1, 0)).toEqual({
      retry: false,
      why: 'retry_after_too_long',
    });
  });

  it('When the wait would reach the call’s deadline, then it is not retried', () => {
    const policy = new RetryPolicy(settings, () => 0.5);
    expect(policy.decide(failure({ retryAfterMs: 1_000 }), 1, 10_000, 11_000)).toEqual({
      retry: false,
      why: 'deadline',
    });
    expect(policy.decide(failure({ retryAfterMs: 1_000 }), 1, 10_000, 11_001)).toEqual({
      retry: true,
      delayMs: 1_000,
    });
  });
});
