import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Channel } from 'amqplib';

/**
 * Broker topology, declared idempotently on every (re)connection.
 *
 *   exchange <name> (topic, durable) ──binding keys──▶ <prefix><queue>            (quorum)
 *   <prefix><queue>.retry.<n> (quorum, x-message-ttl = delay n) ──dead-letter via ''──▶ <prefix><queue>
 *   <prefix><queue>.dlq (quorum): handler gave up, malformed messages, or broker delivery limit hit
 *
 * Retry queues have no consumers: a message waits there for its TTL, then the broker dead-letters it
 * back to the main queue through the default exchange. Every queue is quorum (RabbitMQ 4 drops classic
 * mirroring); TTL and at-least-once dead-lettering on quorum queues exist since 3.10.
 *
 * Queue arguments cannot change after creation (the broker answers PRECONDITION_FAILED): changing the
 * delays of an existing queue means deleting its retry queues first.
 *
 * A broadcast subscription instead gets one exclusive, auto-delete classic queue per connection,
 * `<prefix><queue>.<host>.<random>`, bound like the durable one; it has no retry queues and no DLQ.
 */
export interface ConsumerQueueNames {
  main: string;
  retries: string[];
  dlq: string;
}

export function consumerQueueNames(prefix: string, queue: string, retryCount: number): ConsumerQueueNames {
  const main = `${prefix}${queue}`;
  return {
    main,
    retries: Array.from({ length: retryCount }, (_, i) => `${main}.retry.${i + 1}`),
    dlq: `${main}.dlq`,
  };
}

// Dead-letter at-least-once: the broker keeps a message until the target queue confirms it, instead of
// dropping it if the target is unavailable. It requires `reject-publish` overflow.
const SAFE_DEAD_LETTERING = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };

export async function assertExchange(channel: Channel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
}

export interface ConsumerTopology {
  exchange: string;
  names: ConsumerQueueNames;
  bindings: string[];
  retryDelaysMs: readonly number[];
  /** Broker-side cap on redeliveries (crash loops, requeues); past it the message goes to the DLQ. */
  deliveryLimit: number;
}

export async function assertConsumerTopology(channel: Channel, t: ConsumerTopology): Promise<void> {
  const { names } = t;
  await channel.assertQueue(names.dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.assertQueue(names.main, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      // RabbitMQ 4 defaults quorum queues to a delivery limit of 20 and drops the message past it unless a
      // dead-letter target exists; setting both makes 3.10 and 4.x behave alike and lose nothing.
      'x-delivery-limit': t.deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': names.dlq,
      ...SAFE_DEAD_LETTERING,
    },
  });
  for (const [i, retryQueue] of names.retries.entries()) {
    await channel.assertQueue(retryQueue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': t.retryDelaysMs[i],
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.main,
        ...SAFE_DEAD_LETTERING,
      },
    });
  }
  for (const key of t.bindings) await channel.bindQueue(names.main, t.exchange, key);
}

/**
 * The queue of a broadcast subscription on one connection: the host (pod name) says whose it is in the
 * broker's queue list; the random part is new on every connection, because after a network failure
 * the broker may keep the old connection, and its exclusive queue, until heartbeats time out, and
 * declaring that same name from the new connection would fail with RESOURCE_LOCKED until then.
 */
export function broadcastQueueName(prefix: string, queue: string): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 40) || 'host';
  return `${prefix}${queue}.${host}.${randomBytes(4).toString('hex')}`;
}

/**
 * Exclusive: only this connection may use it, and the broker deletes it when the connection closes or
 * dies (also after a broker restart: it is not durable). Auto-delete: also gone as soon as its consumer
 * is cancelled. RabbitMQ 4 deprecates non-durable queues only when they are NOT exclusive
 * (`transient_nonexcl_queues`, denied by default since 4.3); transient exclusive queues stay supported.
 * Classic, because quorum queues cannot be exclusive (nothing to replicate: the queue lives as long as
 * its connection).
 */
export async function assertBroadcastQueue(
  channel: Channel,
  t: { exchange: string; queue: string; bindings: string[] },
): Promise<void> {
  await channel.assertQueue(t.queue, {
    exclusive: true,
    durable: false,
    autoDelete: true,
    arguments: { 'x-queue-type': 'classic' },
  });
  for (const key of t.bindings) await channel.bindQueue(t.queue, t.exchange, key);
}
