import { AppError } from '@te/platform';
import { ProviderError } from './provider-error.js';
import type { CallOptions } from './provider.js';

/**
 * One provider call's abort signal: the caller's signal, the deadline (the earlier of the call's and
 * the provider's timeout) and, for streams, an idle timer between chunks. `classify` turns whatever
 * fetch threw into a ProviderError according to which of them fired.
 */
export class CallControl {
  private readonly controller = new AbortController();
  private deadlineTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private timedOut = false;
  private readonly caller?: AbortSignal;
  private readonly onCallerAbort = () => this.controller.abort(this.caller?.reason);

  constructor(
    private readonly provider: string,
    options: CallOptions,
    timeoutMs: number,
  ) {
    this.caller = options.signal;
    if (this.caller?.aborted) this.controller.abort(this.caller.reason);
    else this.caller?.addEventListener('abort', this.onCallerAbort, { once: true });
    const deadline = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
    const budget = Math.min(timeoutMs, deadline === undefined ? Infinity : deadline - Date.now());
    if (Number.isFinite(budget)) this.deadlineTimer = setTimeout(() => this.timeout(), Math.max(0, budget));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** (Re)starts the idle timer: the provider must send something within `ms`. */
  armIdle(ms: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.timeout(), ms);
  }

  disarmIdle(): void {
    clearTimeout(this.idleTimer);
  }

  /** Ends the call: timers cleared, and the connection released if a body is still being read. */
  dispose(): void {
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.idleTimer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    if (!this.controller.signal.aborted)
      this.controller.abort(new DOMException('Call finished', 'AbortError'));
  }

  classify(error: unknown): ProviderError {
    if (error instanceof ProviderError) return error;
    const provider = this.provider;
    if (this.timedOut) {
      return new ProviderError('DEADLINE_EXCEEDED', 'The model provider did not answer in time', {
        provider,
        retryable: true,
        reason: 'timeout',
      });
    }
    if (this.caller?.aborted) return cancellationError(provider, this.caller.reason);
    return new ProviderError('UNAVAILABLE', 'The model provider could not be reached', {
      provider,
      retryable: true,
      reason: 'network',
      cause: networkCause(error),
    });
  }

  private timeout(): void {
    this.timedOut = true;
    this.controller.abort(new DOMException('The provider call timed out', 'TimeoutError'));
  }
}

/**
 * The error for a call its caller gave up on (not retryable, reason `cancelled`): the caller's own
 * AppError if it aborted with one, DEADLINE_EXCEEDED for a timeout, UNAVAILABLE otherwise.
 */
export function cancellationError(provider: string, reason: unknown): ProviderError {
  const options = { provider, retryable: false, reason: 'cancelled' };
  if (reason instanceof AppError) return new ProviderError(reason.code, reason.message, options);
  if (reason instanceof DOMException && reason.name === 'TimeoutError')
    return new ProviderError('DEADLINE_EXCEEDED', 'The call ran out of time', options);
  return new ProviderError('UNAVAILABLE', 'The call was cancelled', options);
}

// undici reports "fetch failed" / "terminated" with the socket error as the cause; keep only the
// names and codes (never request options, which hold the credentials).
function networkCause(error: unknown): Error {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 3; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return new Error(parts.join(': ') || String(error));
}
