import type { EventEnvelope } from './event-envelope.js';

/** What a handler receives: a validated envelope. Throwing means "retry me" (see the retry policy). */
export type EventHandler<T = unknown> = (event: EventEnvelope<T>) => Promise<void>;

export interface SubscribeOptions<T = unknown> {
  /** Logical queue of the consuming service, e.g. 'context-service.user-events'; the bus adds the prefix. */
  queue: string;
  /** Topic binding keys: event types, or patterns with `*` (one word) and `#` (zero or more words). */
  bindings: string[];
  /** `T` is the consumer's view of `data`: the envelope is validated, the payload is the handler's to check. */
  handler: EventHandler<T>;
  /** Unacknowledged messages in flight for this consumer (default 50): bounds memory and concurrency. */
  prefetch?: number;
  /** Delay before each retry (default [1000, 5000, 30000]); after the last one the message goes to the DLQ. */
  retryDelaysMs?: number[];
}

/** The narrow view the outbox relay and publishers need, so they can be tested with a fake. */
export interface EventPublisher {
  publish(event: EventEnvelope): Promise<void>;
}

export interface EventBus extends EventPublisher {
  connect(): Promise<void>;
  subscribe<T = unknown>(options: SubscribeOptions<T>): Promise<void>;
  readinessCheck(): () => Promise<void>;
  close(): Promise<void>;
}
