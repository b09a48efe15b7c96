import { connect, type ChannelModel, type ConfirmChannel, type GetMessage, type Options } from 'amqplib';

/** The machine's broker (scenarios that kill a consumer, not the broker). */
export const MACHINE_AMQP_URL = process.env['AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';

/**
 * A plain amqplib connection beside the services under test: publishes raw messages (as another
 * service's relay would), reads a queue's depth and takes messages out of a DLQ.
 */
export class AmqpProbe {
  private constructor(private readonly model: ChannelModel) {}

  static async open(url: string): Promise<AmqpProbe> {
    const model = await connect(url, { timeout: 10_000 });
    model.on('error', () => undefined);
    return new AmqpProbe(model);
  }

  /** Each operation on its own channel: a 404 closes the channel and must not poison the next call. */
  private async withChannel<T>(fn: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    const channel = await this.model.createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Publishes persistent, mandatory messages and waits for the broker's confirms. */
  publish(
    exchange: string,
    messages: { routingKey: string; body: Buffer; options?: Options.Publish }[],
  ): Promise<void> {
    return this.withChannel(async (channel) => {
      for (const message of messages) {
        channel.publish(exchange, message.routingKey, message.body, {
          persistent: true,
          mandatory: true,
          contentType: 'application/json',
          ...message.options,
        });
      }
      await channel.waitForConfirms();
    });
  }

  /** Ready (not unacked) messages in a queue. */
  messageCount(queue: string): Promise<number> {
    return this.withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
  }

  /** Takes (and acks) one message, or false when the queue is empty. */
  get(queue: string): Promise<GetMessage | false> {
    return this.withChannel((channel) => channel.get(queue, { noAck: true }));
  }

  close(): Promise<void> {
    return this.model.close().catch(() => undefined);
  }
}
