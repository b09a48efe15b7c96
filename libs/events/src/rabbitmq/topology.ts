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
