import { connect, type ChannelModel, type GetMessage, type Options } from 'amqplib';

export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A plain amqplib connection beside the bus under test: inspects queues, injects raw messages, cleans up. */
export class RabbitAdmin {
  private constructor(private readonly model: ChannelModel) {}

  static async open(url = AMQP_URL): Promise<RabbitAdmin> {
    const model = await connect(url, { timeout: 10_000 });
    model.on('error', () => undefined);
    return new RabbitAdmin(model);
  }

  /** Each operation on its own channel: a 404 closes the channel, and must not poison the next call. */
  private async withChannel<T>(
    fn: (channel: Awaited<ReturnType<ChannelModel['createConfirmChannel']>>) => Promise<T>,
  ): Promise<T> {
    const channel = await this.model.createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  get(queue: string): Promise<GetMessage | false> {
    return this.withChannel(async (channel) => {
      const message = await channel.get(queue, { noAck: true });
      return message;
    });
  }

  async waitForMessage(queue: string, timeoutMs = 10_000): Promise<GetMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = await this.get(queue);
      if (message) return message;
      if (Date.now() > deadline) throw new Error(`no message in ${queue} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ready (not unacked) messages in a queue. */
  messageCount(queue: string): Promise<number> {
    return this.withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
  }

  async queueExists(queue: string): Promise<boolean> {
    return this.withChannel((channel) => channel.checkQueue(queue)).then(
      () => true,
      () => false,
    );
  }

  /**
   * For another connection's exclusive queue, which a passive declare from here cannot open: the broker
   * answers 405 RESOURCE_LOCKED while it exists and 404 NOT_FOUND once it is gone.
   */
  async exclusiveQueueExists(queue: string): Promise<boolean> {
    return this.withChannel((channel) => channel.checkQueue(queue)).then(
      () => true,
      (error: { code?: number }) => {
        if (error.code === 405) return true;
        if (error.code === 404) return false;
        throw error;
      },
    );
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish = {},
  ): Promise<void> {
    return this.withChannel(async (channel) => {
      channel.publish(exchange, routingKey, content, options);
      await channel.waitForConfirms();
    });
  }

  /** A classic exclusive queue seeing everything the exchange routes under `pattern` (to inspect properties). */
  tap(exchange: string, pattern: string, queue: string): Promise<void> {
    return this.withChannel(async (channel) => {
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(queue, exchange, pattern);
    });
  }

  deleteQueue(queue: string): Promise<void> {
    return this.withChannel(async (channel) => {
      await channel.deleteQueue(queue);
    });
  }

  async cleanup(exchanges: string[], queues: string[]): Promise<void> {
    for (const queue of queues) await this.deleteQueue(queue).catch(() => undefined);
    for (const exchange of exchanges)
      await this.withChannel((channel) => channel.deleteExchange(exchange)).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.model.close().catch(() => undefined);
  }
}
