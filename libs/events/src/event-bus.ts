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
  /**
   * Every process gets its own copy of each matching event (cache invalidation), instead of sharing
   * one durable queue with the other replicas. The bus declares an exclusive, auto-delete queue
   * `<prefix><queue>.<host>.<random>` per connection: it disappears with the process, has no retry
   * queues or DLQ (a failing handler gets one immediate redelivery, then the event is dropped and
   * logged), and events published while this process is disconnected are missed: see `onGap`.
   */
  broadcast?: boolean;
  /**
   * Broadcast only: called after the subscription was re-established (new connection, or the broker
   * lost the queue). Events published in between were missed, so reload what they would have
   * invalidated. Not called for the first subscription: load before subscribing or right after.
   */
  onGap?: () => Promise<void> | void;
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
