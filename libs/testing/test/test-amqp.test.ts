import { connect, type ChannelModel } from 'amqplib';
import { runId, testAmqp } from '../src/index.js';

/** True when the broker knows the queue (a passive declare fails and closes the channel otherwise). */
async function queueExists(connection: ChannelModel, name: string): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkQueue(name);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

async function exchangeExists(connection: ChannelModel, name: string): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkExchange(name);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

describe('testAmqp', () => {
  let connection: ChannelModel;
  beforeAll(async () => {
    connection = await connect(testAmqp().url, { timeout: 10_000 });
  });
  afterAll(() => connection.close());

  test('When names are asked for, then they carry the run id', () => {
    const amqp = testAmqp();

    expect(amqp.exchange).toBe(`te.events.t${runId()}`);
    expect(amqp.queuePrefix).toBe(`t${runId()}.`);
  });

  test('When cleanup runs, then the exchange and the registered queues with their retry and dead-letter queues are gone, and nothing else', async () => {
    const amqp = testAmqp();
    const main = `${amqp.queuePrefix}svc.thing-happened`;
    const related = [main, `${main}.retry.1`, `${main}.retry.2`, `${main}.dlq`];
    const unrelated = `${amqp.queuePrefix}svc.not-registered`;
    const channel = await connection.createChannel();
    await channel.assertExchange(amqp.exchange, 'topic', { durable: true });
    for (const name of [...related, unrelated])
      await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.close();
    amqp.registerQueue('svc.thing-happened');

    await amqp.cleanup();

    for (const name of related) expect(await queueExists(connection, name)).toBe(false);
    expect(await exchangeExists(connection, amqp.exchange)).toBe(false);
    expect(await queueExists(connection, unrelated)).toBe(true);
    const cleanupChannel = await connection.createChannel();
    await cleanupChannel.deleteQueue(unrelated);
    await cleanupChannel.close();
  });
});
