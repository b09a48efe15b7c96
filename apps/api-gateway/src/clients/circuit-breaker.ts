import { AppError } from '@te/platform';

export interface CircuitBreakerSettings {
  /** Consecutive UNAVAILABLE / DEADLINE_EXCEEDED failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before one probe call is let through. */
  openMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/** One admitted call; the first settlement counts, later ones are ignored. */
export interface CircuitPermit {
  success(): void;
  failure(): void;
  /** Says nothing about the peer (the caller went away). */
  release(): void;
}

/**
 * A circuit breaker for one upstream service (Nygard, "Release It!"; states as in
 * https://martinfowler.com/bliki/CircuitBreaker.html), kept small: closed → open after
 * `failureThreshold` consecutive failures; open fails fast for `openMs`; then half-open admits one
 * probe — its success closes the circuit, its failure opens it again. Outcomes of calls admitted
 * before the last change of state are ignored (a slow call from before cannot reopen it).
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private generation = 0;
  private failures = 0;
  private openedAt = 0;
  private probeOut = false;

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.settings.openMs)
      this.transition('half_open');
    return this.current;
  }

  /** Milliseconds until an open circuit admits a probe (0 unless open). */
  retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + this.settings.openMs - this.now()) : 0;
  }

  /** A permit for one call, or undefined: the circuit is open, or its probe is out. */
  tryAcquire(): CircuitPermit | undefined {
    const state = this.state;
    if (state === 'open' || (state === 'half_open' && this.probeOut)) return undefined;
    const probe = state === 'half_open';
    if (probe) this.probeOut = true;
    const generation = this.generation;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'neutral') => {
      if (settled || generation !== this.generation) return;
      settled = true;
      if (probe) {
        this.probeOut = false;
        if (outcome !== 'neutral') this.transition(outcome === 'success' ? 'closed' : 'open');
        return;
      }
      if (outcome === 'success') this.failures = 0;
      if (outcome === 'failure' && ++this.failures >= this.settings.failureThreshold) this.transition('open');
    };
    return {
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('neutral'),
    };
  }

  private transition(state: CircuitState): void {
    if (state === this.current) return;
    this.current = state;
    this.generation++;
    this.failures = 0;
    this.probeOut = false;
    if (state === 'open') this.openedAt = this.now();
    this.onChange(state);
  }
}

/** Whether a failed call says the peer is down or too slow (not: it answered with an error, or we cancelled). */
export function isPeerFailure(error: unknown): boolean {
  if (!(error instanceof AppError)) return false;
  if (error.code === 'DEADLINE_EXCEEDED') return true;
  // fromGrpcError maps CANCELLED (our own cancellation: the HTTP client went away) to UNAVAILABLE too.
  return error.code === 'UNAVAILABLE' && error.details?.['grpcStatus'] === 'UNAVAILABLE';
}

/**
 * The client object (e.g. createUserServiceClient's) with every call behind `breaker`: unary calls
 * (promises) settle their permit when they settle; streaming calls (async iterables, which start when
 * iterated) take their permit on iteration and settle it on the first message or failure. While the
 * circuit is open a call fails at once with 503 UNAVAILABLE (`Retry-After`: when a probe is let through).
 * `close` and other non-call members pass through.
 */
export function guardClient<T extends object>(client: T, breaker: CircuitBreaker, service: string): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(client)) {
    if (name === 'close' || member === null) guarded[name] = member;
    else if (typeof member === 'function') guarded[name] = guardCall(member as Call, breaker, service);
    else if (typeof member === 'object') guarded[name] = guardClient(member as object, breaker, service);
    else guarded[name] = member;
  }
  return guarded as T;
}

type Call = (...args: unknown[]) => unknown;

function guardCall(call: Call, breaker: CircuitBreaker, service: string): Call {
  return (...args) => {
    const permit = breaker.tryAcquire();
    if (!permit) return failedCall(circuitOpen(breaker, service));
    let result: unknown;
    try {
      result = call(...args);
    } catch (error) {
      permit.release();
      throw error;
    }
    if (isThenable(result)) {
      result.then(
        () => permit.success(),
        (error: unknown) => settle(permit, error),
      );
      return result;
    }
    permit.release();
    return isAsyncIterable(result) ? guardStream(result, breaker, service) : result;
  };
}

function guardStream(stream: AsyncIterable<unknown>, breaker: CircuitBreaker, service: string) {
  return {
    [Symbol.asyncIterator]: (): AsyncIterator<unknown> => {
      const permit = breaker.tryAcquire();
      if (!permit) return failedCall(circuitOpen(breaker, service))[Symbol.asyncIterator]();
      const inner = stream[Symbol.asyncIterator]();
      return {
        next: async () => {
          try {
            const step = await inner.next();
            permit.success();
            return step;
          } catch (error) {
            settle(permit, error);
            throw error;
          }
        },
        return: async (value?: unknown) => {
          permit.release();
          return inner.return ? inner.return(value) : { done: true, value };
        },
      };
    },
  };
}

function settle(permit: CircuitPermit, error: unknown): void {
  if (isPeerFailure(error)) permit.failure();
  else if (error instanceof AppError)
    permit.success(); // the peer answered, with an error
  else permit.release();
}

function circuitOpen(breaker: CircuitBreaker, service: string): AppError {
  return new AppError('UNAVAILABLE', 'Service unavailable', {
    retryAfterSeconds: breaker.retryInMs() / 1000,
    details: { upstream: service, circuit: 'open' },
  });
}

/**
 * A call refused before it started, in both shapes a client call can have: awaited (a thenable) or
 * iterated (a stream). It rejects only when used, so an unused one is never an unhandled rejection.
 */
function failedCall(error: AppError) {
  return {
    then: <R1, R2>(onFulfilled?: (value: never) => R1, onRejected?: (reason: unknown) => R2) =>
      Promise.reject(error).then(onFulfilled, onRejected),
    catch: <R>(onRejected?: (reason: unknown) => R) => Promise.reject(error).catch(onRejected),
    finally: (onFinally?: () => void) => Promise.reject(error).finally(onFinally),
    [Symbol.asyncIterator]: (): AsyncIterator<never> => ({ next: () => Promise.reject(error) }),
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}
