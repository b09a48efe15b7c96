import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from '@te/platform';
import type { Registry } from 'prom-client';
import { cancellationError } from '../providers/call-control.js';
import type {
  CallOptions,
  Completion,
  InferenceRequest,
  ModelProvider,
  ProviderError,
  StreamEvent,
} from '../providers/index.js';
import type { BreakerSettings } from './circuit-breaker.js';
import { failureKind, type FailureKind } from './failure.js';
import { ProviderGuard, type Admission } from './provider-guard.js';
import { ResilienceMetrics } from './resilience-metrics.js';
import { RetryPolicy, type RetrySettings } from './retry-policy.js';

export interface ResilienceSettings {
  retry: RetrySettings;
  breaker: BreakerSettings;
  /** Callers that may wait for a slot of one provider when all its slots are taken. */
  queueLimit: number;
}

/** One version of the chain, ready to call. */
export interface Candidate {
  /** The version's name, for logs. */
  name: string;
  provider: ModelProvider;
  request: InferenceRequest;
}

/** Which candidate is being tried; after a failure, the one whose error was thrown. */
export interface ChainProgress<C extends Candidate> {
  current: C;
}

export interface ResilientCallerOptions {
  settings: ResilienceSettings;
  /** AI_PROVIDER_<ID>_MAX_CONCURRENCY by provider id. */
  maxConcurrency: ReadonlyMap<string, number>;
  logger: Logger;
  /** The service's metrics registry. */
  registry?: Registry;
  now?: () => number;
  random?: () => number;
}

type Outcome = 'success' | 'failure' | 'neutral';

const OUTCOME_OF: Record<FailureKind, Outcome> = {
  caller: 'neutral',
  request: 'neutral',
  version: 'neutral',
  provider: 'failure',
};

/**
 * Calls a chain of versions (decision 0015): each through its provider's guard (breaker, concurrency
 * limit), retried per the RetryPolicy, and on a failure that is the provider's or the version's the
 * next version is tried. A stream commits to its version at its first event: nothing is retried or
 * replaced after the caller may have seen part of an answer.
 */
export class ResilientCaller {
  private readonly guards = new Map<string, ProviderGuard>();
  private readonly retry: RetryPolicy;
  private readonly metrics?: ResilienceMetrics;
  private readonly now: () => number;

  constructor(private readonly options: ResilientCallerOptions) {
    this.now = options.now ?? Date.now;
    this.retry = new RetryPolicy(options.settings.retry, options.random);
    if (options.registry)
      this.metrics = new ResilienceMetrics(options.registry, () =>
        [...this.guards].map(([id, guard]) => [id, guard.breaker.state] as const),
      );
  }

  /** The guard of a provider (created on first use). */
  guard(providerId: string): ProviderGuard {
    let guard = this.guards.get(providerId);
    if (!guard) {
      guard = new ProviderGuard(providerId, {
        maxConcurrency: this.options.maxConcurrency.get(providerId) ?? 16,
        queueLimit: this.options.settings.queueLimit,
        breaker: this.options.settings.breaker,
        logger: this.options.logger,
        metrics: this.metrics,
        now: this.now,
      });
      this.guards.set(providerId, guard);
    }
    return guard;
  }

  /** A whole answer from the first version of the chain that gives one. */
  async complete<C extends Candidate>(
    chain: readonly C[],
    call: CallOptions,
    progress: ChainProgress<C>,
  ): Promise<{ candidate: C; completion: Completion }> {
    return this.firstSuccess(chain, call, progress, async (candidate, admission) => {
      try {
        const completion = await candidate.provider.complete(candidate.request, call);
        admission.settle('success');
        return { candidate, completion };
      } catch (error) {
        admission.settle(this.outcome(error, call));
        throw error;
      }
    });
  }

  /**
   * The events of the first version whose stream produces an event; `open` starts a version's stream
   * (or wraps a whole answer as one). Returning early (the caller went away) closes the stream.
   */
  async *stream<C extends Candidate>(
    chain: readonly C[],
    call: CallOptions,
    progress: ChainProgress<C>,
    open: (candidate: C, call: CallOptions) => AsyncIterable<StreamEvent>,
  ): AsyncGenerator<{ candidate: C; event: StreamEvent }> {
    const { candidate, iterator, first, admission } = await this.firstSuccess(
      chain,
      call,
      progress,
      async (candidate, admission) => {
        const iterator = open(candidate, call)[Symbol.asyncIterator]();
        try {
          return { candidate, iterator, first: await iterator.next(), admission };
        } catch (error) {
          admission.settle(this.outcome(error, call));
          throw error;
        }
      },
    );
    // Committed: from here a failure ends the stream.
    let outcome: Outcome = 'neutral';
    let finished = false;
    try {
      for (let next = first; !next.done; next = await iterator.next()) {
        if (next.value.type === 'done') outcome = 'success';
        yield { candidate, event: next.value };
      }
      finished = true;
    } catch (error) {
      finished = true;
      outcome = this.outcome(error, call);
      throw error;
    } finally {
      try {
        if (!finished) await iterator.return?.(undefined);
      } finally {
        admission.settle(outcome);
      }
    }
  }

  private async firstSuccess<C extends Candidate, R>(
    chain: readonly C[],
    call: CallOptions,
    progress: ChainProgress<C>,
    attempt: (candidate: C, admission: Admission) => Promise<R>,
  ): Promise<R> {
    // The error to report when every version failed: the last one a provider gave, if any did.
    let reported: { candidate: C; error: unknown } | undefined;
    for (const [index, candidate] of chain.entries()) {
      progress.current = candidate;
      const tried = await this.tryVersion(candidate, call, attempt);
      if ('result' in tried) return tried.result;
      if (tried.fromProvider || !reported) reported = { candidate, error: tried.error };
      if (tried.stop) throw tried.error;
      const next = chain[index + 1];
      if (next) {
        this.metrics?.fallback(candidate.provider.id, next.provider.id);
        const { code, reason } = tried.error as Partial<ProviderError>;
        this.options.logger.warn('Model version failed; falling back to the next of the chain', {
          from: candidate.name,
          to: next.name,
          code,
          reason,
        });
      }
    }
    if (!reported) throw new Error('the chain of versions is empty');
    progress.current = reported.candidate;
    throw reported.error;
  }

  /**
   * One version, retried while the policy allows. On failure: the last error a provider call gave
   * (else the last refusal), and whether the chain must stop (the caller's or the request's fault).
   */
  private async tryVersion<C extends Candidate, R>(
    candidate: C,
    call: CallOptions,
    attempt: (candidate: C, admission: Admission) => Promise<R>,
  ): Promise<{ result: R } | { error: unknown; fromProvider: boolean; stop: boolean }> {
    const deadline = toEpoch(call.deadline);
    const providerId = candidate.provider.id;
    let providerError: unknown;
    for (let number = 1; ; number++) {
      let error: unknown;
      try {
        const admission = await this.guard(providerId).admit({ signal: call.signal, deadline });
        try {
          return { result: await attempt(candidate, admission) };
        } catch (caught) {
          error = providerError = caught;
        }
      } catch (refused) {
        error = refused;
      }
      const kind = failureKind(error, { signal: call.signal, deadline, now: this.now() });
      const failed = { error: providerError ?? error, fromProvider: providerError !== undefined };
      if (kind === 'caller' || kind === 'request') return { error, fromProvider: true, stop: true };
      if (kind === 'version') return { ...failed, stop: false };
      const failure = error as ProviderError;
      const decision = this.retry.decide(failure, number, this.now(), deadline);
      if (!decision.retry) return { ...failed, stop: false };
      this.metrics?.retry(providerId, failure.code);
      this.options.logger.warn('Model provider call failed; retrying', {
        provider: providerId,
        model: candidate.name,
        attempt: number,
        delay_ms: decision.delayMs,
        code: failure.code,
        reason: failure.reason,
      });
      await this.pause(decision.delayMs, call.signal, providerId);
    }
  }

  private outcome(error: unknown, call: CallOptions): Outcome {
    return OUTCOME_OF[
      failureKind(error, { signal: call.signal, deadline: toEpoch(call.deadline), now: this.now() })
    ];
  }

  private async pause(ms: number, signal: AbortSignal | undefined, provider: string): Promise<void> {
    try {
      await sleepFor(ms, undefined, { signal });
    } catch {
      throw cancellationError(provider, signal?.reason);
    }
  }
}

function toEpoch(deadline: CallOptions['deadline']): number | undefined {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
