// Removes what killed test runs left on the machine's RabbitMQ: queues named `t<8 hex>.<queue>` with no
// consumer, and exchanges `te.events.t<8 hex>` (@te/testing names every run's objects so). Hundreds of
// idle quorum queues piled up across runs once and wedged the broker. Run by .ci/run before the tests,
// when no test runs; reads the names rabbitmqctl listed from stdin ("<name>\t<consumers>" per line for
// queues, "exchange\t<name>" for exchanges).
import { createInterface } from 'node:readline';
import { connect } from 'amqplib';

const TEST_QUEUE = /^t[0-9a-f]{8}\.[A-Za-z0-9_.-]+$/;
const TEST_EXCHANGE = /^te\.events\.t[0-9a-f]{8}$/;

const queues = [];
const exchanges = [];
for await (const line of createInterface({ input: process.stdin })) {
  const [first, second] = line.trim().split(/\s+/);
  if (first === 'exchange' && TEST_EXCHANGE.test(second ?? '')) exchanges.push(second);
  else if (TEST_QUEUE.test(first ?? '') && second === '0') queues.push(first);
}

const url = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const connection = await connect(url, { timeout: 10_000 });
try {
  const channel = await connection.createChannel();
  for (const queue of queues) await channel.deleteQueue(queue);
  for (const exchange of exchanges) await channel.deleteExchange(exchange);
  console.log(`[ci] removed ${queues.length} leftover test queues and ${exchanges.length} test exchanges`);
} finally {
  await connection.close();
}
