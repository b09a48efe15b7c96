import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState } from './circuit-breaker.js';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** The resilience layer's series, on the service's registry (served at /metrics). */
export class ResilienceMetrics {
  private readonly inFlight: Gauge<'provider'>;
  private readonly queued: Gauge<'provider'>;
  private readonly retries: Counter<'provider' | 'code'>;
  private readonly refusals: Counter<'provider' | 'reason'>;
  private readonly fallbacks: Counter<'from_provider' | 'to_provider'>;

  /** `breakers` is read at each scrape, so an open circuit past its cool-down shows as half-open. */
  constructor(
    registry: Registry,
    breakers: () => Iterable<readonly [provider: string, state: BreakerState]>,
  ) {
    const registers = [registry];
    new Gauge({
      name: 'ai_provider_circuit_state',
      help: "Each provider's circuit breaker: 0 closed, 1 half-open, 2 open",
      labelNames: ['provider'],
      registers,
      collect() {
        for (const [provider, state] of breakers()) this.set({ provider }, STATE_VALUE[state]);
      },
    });
    this.inFlight = new Gauge({
      name: 'ai_provider_calls_in_flight',
      help: 'Calls to each provider in flight (at most AI_PROVIDER_<ID>_MAX_CONCURRENCY)',
      labelNames: ['provider'],
      registers,
    });
    this.queued = new Gauge({
      name: 'ai_provider_calls_queued',
      help: 'Calls waiting for a free slot of each provider (at most AI_PROVIDER_QUEUE_LIMIT)',
      labelNames: ['provider'],
      registers,
    });
    this.retries = new Counter({
      name: 'ai_provider_retries_total',
      help: 'Calls to a provider repeated after a retryable failure, by the failure’s code',
      labelNames: ['provider', 'code'],
      registers,
    });
    this.refusals = new Counter({
      name: 'ai_provider_refusals_total',
      help: 'Calls not sent to a provider: circuit_open or queue_full',
      labelNames: ['provider', 'reason'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'ai_inference_fallbacks_total',
      help: "Inferences moved on to the next version of their alias's chain, by the providers left and tried",
      labelNames: ['from_provider', 'to_provider'],
      registers,
    });
  }

  slots(provider: string, inFlight: number, queued: number): void {
    this.inFlight.set({ provider }, inFlight);
    this.queued.set({ provider }, queued);
  }

  retry(provider: string, code: string): void {
    this.retries.inc({ provider, code });
  }

  refusal(provider: string, reason: string): void {
    this.refusals.inc({ provider, reason });
  }

  fallback(fromProvider: string, toProvider: string): void {
    this.fallbacks.inc({ from_provider: fromProvider, to_provider: toProvider });
  }
}
