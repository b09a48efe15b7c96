export interface BreakerSettings {
  /** Consecutive provider failures that open the circuit. */
  failureThreshold: number;
  /** Or: this share of failures (0–1] among the calls of the rolling window … */
  failureRatio: number;
  windowMs: number;
  /** … once the window holds at least this many calls. */
  minimumCalls: number;
  /** How long an open circuit fails fast before letting one probe through. */
  coolDownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** One admitted call; settle it exactly once (later calls are ignored). */
export interface BreakerPermit {
  /** The provider answered. */
  success(): void;
  /** The provider failed (its fault: 5xx, timeout, rate limit, broken stream, bad credentials). */
  failure(): void;
  /** Says nothing about the provider (the caller cancelled, the request was refused as invalid). */
  release(): void;
}

const BUCKETS = 10;

/**
 * A circuit breaker for one provider (Nygard, "Release It!"; the states as in
 * https://martinfowler.com/bliki/CircuitBreaker.html): closed → open after `failureThreshold`
 * consecutive failures or when failures reach `failureRatio` of at least `minimumCalls` calls in the
 * last `windowMs`; open fails fast for `coolDownMs`; then half-open admits one probe at a time — its
 * success closes the circuit, its failure opens it again. Outcomes of calls admitted before the last
 * state change are ignored, so a slow call from before cannot reopen or close it.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private generation = 0;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  // The rolling window as BUCKETS time slices: [slice start, calls, failures].
  private window: { start: number; calls: number; failures: number }[] = [];

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
    private readonly onChange: (state: BreakerState) => void = () => undefined,
  ) {}

  /** The state now (an open circuit whose cool-down has passed reads as half-open). */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.settings.coolDownMs)
      this.transition('half_open');
    return this.current;
  }

  /** Milliseconds until an open circuit lets a probe through (0 unless open). */
  retryInMs(): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, this.openedAt + this.settings.coolDownMs - this.now());
  }

  /** A permit to call the provider, or undefined: the circuit is open or its one probe is out. */
  tryAcquire(): BreakerPermit | undefined {
    const state = this.state;
    if (state === 'open') return undefined;
    if (state === 'half_open') {
      if (this.probeInFlight) return undefined;
      this.probeInFlight = true;
    }
    const generation = this.generation;
    const probe = state === 'half_open';
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'neutral') => {
      if (settled) return;
      settled = true;
      if (generation !== this.generation) return;
      if (probe) this.probeInFlight = false;
      this.record(outcome, probe);
    };
    return {
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('neutral'),
    };
  }

  private record(outcome: 'success' | 'failure' | 'neutral', probe: boolean): void {
    if (outcome === 'neutral') return;
    if (probe) return this.transition(outcome === 'success' ? 'closed' : 'open');
    const slice = this.slice();
    slice.calls++;
    if (outcome === 'success') {
      this.consecutiveFailures = 0;
      return;
    }
    slice.failures++;
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.settings.failureThreshold || this.ratioExceeded())
      this.transition('open');
  }

  private ratioExceeded(): boolean {
    let calls = 0;
    let failures = 0;
    for (const slice of this.window) {
      calls += slice.calls;
      failures += slice.failures;
    }
    return calls >= this.settings.minimumCalls && failures / calls >= this.settings.failureRatio;
  }

  // The current time slice, after dropping those that left the window.
  private slice() {
    const width = Math.max(1, Math.ceil(this.settings.windowMs / BUCKETS));
    const start = Math.floor(this.now() / width) * width;
    this.window = this.window.filter((slice) => slice.start > start - this.settings.windowMs);
    let last = this.window.at(-1);
    if (last?.start !== start) {
      last = { start, calls: 0, failures: 0 };
      this.window.push(last);
    }
    return last;
  }

  private transition(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    this.generation++;
    this.probeInFlight = false;
    if (state === 'open') this.openedAt = this.now();
    if (state !== 'half_open') {
      this.consecutiveFailures = 0;
      this.window = [];
    }
    this.onChange(state);
  }
}
