export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay drawn at random either way (0.2 = ±20%), so replicas do not retry in step. */
  jitter?: number;
}

/** Exponential back-off: `baseMs` for attempt 1, doubling, capped at `maxMs`, with jitter. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const delay = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const jitter = options.jitter ?? 0.2;
  return Math.max(0, Math.round(delay * (1 - jitter + 2 * jitter * random())));
}
