import { env } from '@te/platform';
import { z } from 'zod';
import type { ResilienceSettings } from './resilient-caller.js';

/**
 * The resilience layer's variables, to spread into the service's schema (decision 0015). They apply
 * to every provider; each provider's slot count is its own AI_PROVIDER_<ID>_MAX_CONCURRENCY.
 */
export const resilienceConfigFragment = {
  AI_RETRY_MAX_ATTEMPTS: env
    .positiveInt(3)
    .describe('attempts per model version, the first included, for retryable failures (1: no retries)'),
  AI_RETRY_BASE_DELAY_MS: env
    .milliseconds(250)
    .describe('back-off before the first retry at most; it doubles per retry (full jitter)'),
  AI_RETRY_MAX_DELAY_MS: env.milliseconds(4_000).describe('longest back-off between two attempts'),
  AI_RETRY_AFTER_MAX_MS: env
    .milliseconds(10_000)
    .describe("longest provider Retry-After waited for; a longer one moves on to the alias's next version"),
  AI_BREAKER_FAILURE_THRESHOLD: env
    .positiveInt(5)
    .describe("consecutive failures that open a provider's circuit"),
  AI_BREAKER_FAILURE_RATIO: z.coerce
    .number()
    .gt(0)
    .max(1)
    .default(0.5)
    .describe('or: this share of failures among the calls of the window opens it'),
  AI_BREAKER_WINDOW_MS: env.positiveInt(60_000).describe('the rolling window of the failure ratio'),
  AI_BREAKER_MINIMUM_CALLS: env
    .positiveInt(20)
    .describe('calls the window must hold before the failure ratio counts'),
  AI_BREAKER_COOL_DOWN_MS: env
    .positiveInt(30_000)
    .describe('how long an open circuit fails fast before one probe call is let through'),
  AI_CONCURRENCY_QUEUE_LIMIT: z.coerce
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('callers that may wait for a busy provider (beyond: RATE_LIMITED, or the next version)'),
};

type ResilienceVariables = { [K in keyof typeof resilienceConfigFragment]: number };

export function resilienceSettings(config: ResilienceVariables): ResilienceSettings {
  return {
    retry: {
      maxAttempts: config.AI_RETRY_MAX_ATTEMPTS,
      baseDelayMs: config.AI_RETRY_BASE_DELAY_MS,
      maxDelayMs: config.AI_RETRY_MAX_DELAY_MS,
      maxRetryAfterMs: config.AI_RETRY_AFTER_MAX_MS,
    },
    breaker: {
      failureThreshold: config.AI_BREAKER_FAILURE_THRESHOLD,
      failureRatio: config.AI_BREAKER_FAILURE_RATIO,
      windowMs: config.AI_BREAKER_WINDOW_MS,
      minimumCalls: config.AI_BREAKER_MINIMUM_CALLS,
      coolDownMs: config.AI_BREAKER_COOL_DOWN_MS,
    },
    queueLimit: config.AI_CONCURRENCY_QUEUE_LIMIT,
  };
}
