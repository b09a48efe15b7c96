import { connect } from 'amqplib';
import { runId } from './run-id.js';

const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
/** Retry queues `<queue>.retry.<n>` removed per registered queue (deleting a missing queue is a no-op). */
const MAX_RETRY_QUEUES = 10;

export interface TestAmqp {
  /** Broker URL: `AMQP_URL`, else the machine's RabbitMQ. */
  url: string;
  /** `te.events.t<runid>`: give it to the code under test as AMQP_EXCHANGE. */
  exchange: string;
  /** `t<runid>.`: give it to the code under test as AMQP_QUEUE_PREFIX. */
  queuePrefix: string;
  /**
   * Records a queue the test (or the code under test) declares, by its unprefixed name as passed to
   * `subscribe({ queue })`; cleanup deletes `<prefix><queue>`, its `.dlq` and `.retry.<n>` queues.
   * Needed because the management API (which could list queues by prefix) is not enabled here.
   */
  registerQueue(queue: string): void;
  /** Deletes the registered queues and the exchange. */
  cleanup(): Promise<void>;
}

/**
 * Per-run RabbitMQ names. Nothing is declared up front: the event bus under test declares its
 * exchange and queues itself; the test registers the queues so `cleanup()` can remove them.
 *
 * @example
 *   const amqp = testAmqp();
 *   amqp.registerQueue('user-service.user-registered');
 *   afterAll(() => amqp.cleanup());
 */
export function testAmqp(options: { url?: string } = {}): TestAmqp {
  const id = runId();
  const url = options.url ?? (process.env['AMQP_URL'] || DEFAULT_AMQP_URL);
  const exchange = `te.events.t${id}`;
  const queuePrefix = `t${id}.`;
  const queues = new Set<string>();
  return {
    url,
    exchange,
    queuePrefix,
    registerQueue(queue) {
      const name = queue.startsWith(queuePrefix) ? queue : `${queuePrefix}${queue}`;
      queues.add(name);
    },
    async cleanup() {
      const connection = await connect(url, { timeout: 10_000 });
      try {
        const channel = await connection.createChannel();
        for (const queue of queues) {
          const names = [
            queue,
            `${queue}.dlq`,
            ...Array.from({ length: MAX_RETRY_QUEUES }, (_, i) => `${queue}.retry.${i + 1}`),
          ];
          for (const name of names) await channel.deleteQueue(name);
        }
        await channel.deleteExchange(exchange);
        queues.clear();
      } finally {
        await connection.close();
      }
    },
  };
}
