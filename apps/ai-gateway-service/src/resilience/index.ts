// The resilience layer between the inference use cases and the providers (decision 0015).
export * from './resilient-caller.js';
export type { BreakerSettings, BreakerState } from './circuit-breaker.js';
export type { RetrySettings } from './retry-policy.js';
