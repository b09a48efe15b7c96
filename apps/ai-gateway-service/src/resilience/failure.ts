import { ProviderError } from '../providers/index.js';

/**
 * What a failed attempt means for what comes next:
 * - `caller`: the caller cancelled or its deadline passed — stop, the breaker learns nothing;
 * - `request`: the request itself was refused (invalid, too large) or the failure is not a provider's
 *   (a bug) — stop: another version would refuse it too; the breaker learns nothing;
 * - `version`: this version cannot answer here (the provider does not know the model, or our own
 *   breaker/queue turned the call away) — try the next version; the breaker learns nothing;
 * - `provider`: the provider failed (5xx, timeout, rate limit, network, broken stream, bad
 *   credentials) — counts against its breaker; retried when `retryable`, then the next version.
 */
export type FailureKind = 'caller' | 'request' | 'version' | 'provider';

/** Reasons the resilience layer gives its own refusals (no provider was called). */
export const REFUSAL_REASONS = ['circuit_open', 'queue_full'] as const;

export function failureKind(
  error: unknown,
  context: { signal?: AbortSignal; deadline?: number; now: number },
): FailureKind {
  if (context.signal?.aborted) return 'caller';
  if (!(error instanceof ProviderError)) return 'request';
  if (error.reason === 'cancelled') return 'caller';
  if (error.code === 'VALIDATION_FAILED' || error.code === 'PAYLOAD_TOO_LARGE') return 'request';
  if ((REFUSAL_REASONS as readonly (string | undefined)[]).includes(error.reason)) return 'version';
  if (error.reason === 'model_not_found') return 'version';
  // The call's own deadline passed (the adapter cannot tell it from the provider's timeout).
  if (context.deadline !== undefined && context.now >= context.deadline) return 'caller';
  return 'provider';
}
