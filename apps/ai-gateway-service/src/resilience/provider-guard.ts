import type { Logger } from '@te/platform';
import { cancellationError } from '../providers/call-control.js';
import { ProviderError } from '../providers/index.js';
import { CircuitBreaker, type BreakerSettings } from './circuit-breaker.js';
import { ConcurrencyLimiter, SlotRefused } from './concurrency-limiter.js';
import type { ResilienceMetrics } from './resilience-metrics.js';

/** A call let through to the provider: settle it once with what the provider did. */
export interface Admission {
  /** 'success', 'failure' (the provider's fault) or 'neutral'; frees the slot. */
  settle(outcome: 'success' | 'failure' | 'neutral'): void;
}

export interface GuardOptions {
  maxConcurrency: number;
  queueLimit: number;
  breaker: BreakerSettings;
  logger: Logger;
  metrics?: ResilienceMetrics;
  now?: () => number;
}

/**
 * One provider's gate: its circuit breaker first (an open circuit refuses without queueing), then a
 * slot among its `maxConcurrency` (AI_PROVIDER_<ID>_MAX_CONCURRENCY), waiting in a bounded queue.
 */
export class ProviderGuard {
  readonly breaker: CircuitBreaker;
  readonly limiter: ConcurrencyLimiter;

  constructor(
    readonly provider: string,
    private readonly options: GuardOptions,
  ) {
    this.breaker = new CircuitBreaker(options.breaker, options.now, (state) => {
      const fields = { provider, circuit: state };
      if (state === 'open')
        options.logger.warn('Model provider circuit opened: calls fail fast for the cool-down', {
          ...fields,
          cool_down_ms: options.breaker.coolDownMs,
        });
      else options.logger.info('Model provider circuit changed', fields);
    });
    this.limiter = new ConcurrencyLimiter(options.maxConcurrency, options.queueLimit, (inFlight, queued) =>
      options.metrics?.slots(provider, inFlight, queued),
    );
  }

  /** Throws ProviderError: UNAVAILABLE `circuit_open`, RATE_LIMITED `queue_full`, or the caller's end. */
  async admit(call: { signal?: AbortSignal; deadline?: number }): Promise<Admission> {
    const permit = this.breaker.tryAcquire();
    if (!permit) {
      this.options.metrics?.refusal(this.provider, 'circuit_open');
      const retryAfterMs = this.breaker.retryInMs();
      throw new ProviderError(
        'UNAVAILABLE',
        `The model provider "${this.provider}" is failing; calls to it are paused for a while`,
        {
          provider: this.provider,
          retryable: false,
          reason: 'circuit_open',
          retryAfterMs: retryAfterMs || undefined,
        },
      );
    }
    let release: () => void;
    try {
      release = await this.limiter.acquire(call);
    } catch (error) {
      permit.release();
      throw this.refusal(error, call.signal);
    }
    return {
      settle(outcome) {
        release();
        if (outcome === 'success') permit.success();
        else if (outcome === 'failure') permit.failure();
        else permit.release();
      },
    };
  }

  private refusal(error: unknown, signal?: AbortSignal): ProviderError {
    if (!(error instanceof SlotRefused)) throw error;
    if (error.why === 'aborted') return cancellationError(this.provider, signal?.reason ?? error.abortReason);
    if (error.why === 'deadline')
      return new ProviderError(
        'DEADLINE_EXCEEDED',
        'The call ran out of time waiting for the model provider',
        {
          provider: this.provider,
          retryable: false,
          reason: 'cancelled',
        },
      );
    this.options.metrics?.refusal(this.provider, 'queue_full');
    return new ProviderError(
      'RATE_LIMITED',
      `The model provider "${this.provider}" is busy: ${error.message}; try again shortly`,
      { provider: this.provider, retryable: false, reason: 'queue_full' },
    );
  }
}
