import { randomUUID } from 'node:crypto';
import type { GetMessage } from 'amqplib';
import type pg from 'pg';
import { testAmqp, waitFor } from '@te/testing';
import type { AmqpProbe } from '../src/amqp-probe.js';
import { PLATFORM_EVENTS_CONSUMER, type FaultService } from '../src/fault-service.js';
import { sleep, userRegisteredEvents } from '../src/platform-events.js';
import { machineBrokerScenario } from '../src/scenario-setup.js';

/** integration-service runs with @te/events' default retry policy (libs/events/README.md). */
const RETRY_DELAYS_MS = [1000, 5000, 30000];
/** A loaded 2-core machine may deliver late, never early: how late a retry may come. */
const LATE_MARGIN_MS = 20_000;

/**
 * A poison message in a real consumer: integration-service's platform-events handler, given a
 * `user.registered` whose name holds a NUL character (valid JSON, a valid envelope), fails on every
 * attempt: PostgreSQL's jsonb refuses `\u0000`. The machine's RabbitMQ serves this file.
 */
describe('Scenario 3: a poison message', () => {
  const amqp = testAmqp();
  const mainQueue = `${amqp.queuePrefix}${PLATFORM_EVENTS_CONSUMER}`;
  const scenario = machineBrokerScenario('03-poison-message', 2);
  let integration: FaultService;
  let db: pg.Pool;
  let probe: AmqpProbe;
  beforeAll(() => ({ integration, db, probe } = scenario));

  it('When a handler always fails, then the message is retried after growing delays, dead-lettered after the last one, and never runs again', async () => {
    const [template, good] = userRegisteredEvents(2);
    const poison = { ...template, data: { ...(template.data as object), name: 'Fault\u0000' } };
    const malformedId = randomUUID();
    await probe.publish(amqp.exchange, [
      message(poison.id, poison.type, JSON.stringify(poison)),
      message(malformedId, 'user.registered', JSON.stringify({ not: 'an envelope' })),
      message(good.id, good.type, JSON.stringify(good)),
    ]);

    // The poison message blocks nothing: the next event is recorded while it waits in a retry queue.
    await waitFor(async () => (await processed(good.id)) === 1, {
      timeoutMs: 20_000,
      description: 'the good event to be processed',
    });
    expect(failuresOf(poison.id).length).toBeLessThan(RETRY_DELAYS_MS.length + 1);

    await waitFor(() => failuresOf(poison.id).length === RETRY_DELAYS_MS.length + 1, {
      timeoutMs: RETRY_DELAYS_MS.reduce((a, b) => a + b) + 3 * LATE_MARGIN_MS,
      intervalMs: 250,
      description: 'the poison message to be dead-lettered',
    });
    const failures = failuresOf(poison.id);
    expect(failures.map((line) => [line['message'], line['attempts'], line['retry_in_ms']])).toEqual([
      ['event handler failed; retrying', 1, RETRY_DELAYS_MS[0]],
      ['event handler failed; retrying', 2, RETRY_DELAYS_MS[1]],
      ['event handler failed; retrying', 3, RETRY_DELAYS_MS[2]],
      ['event handler failed for the last time; dead-lettering', 4, undefined],
    ]);
    // Each attempt came after its delay (never early, at most LATE_MARGIN_MS late): growing gaps.
    const times = failures.map((line) => Date.parse(line['timestamp'] as string));
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i] - 50);
      expect(gap).toBeLessThan(RETRY_DELAYS_MS[i] + LATE_MARGIN_MS);
    });
    expect(gaps[0]).toBeLessThan(gaps[1]);
    expect(gaps[1]).toBeLessThan(gaps[2]);

    // In the DLQ, with why; the malformed envelope went there at once, without any handler run.
    const dead = await drain(`${mainQueue}.dlq`);
    expect(dead.map((m) => m.properties.messageId).sort()).toEqual([poison.id, malformedId].sort());
    const poisoned = dead.find((m) => m.properties.messageId === poison.id)!;
    expect(JSON.parse(poisoned.content.toString())).toEqual(poison);
    expect(poisoned.properties.headers).toMatchObject({
      'x-attempts': 4,
      'x-dead-letter-reason': 'handler_failed',
      'x-original-queue': mainQueue,
    });
    const malformed = dead.find((m) => m.properties.messageId === malformedId)!;
    expect(malformed.properties.headers).toMatchObject({ 'x-dead-letter-reason': 'malformed' });

    // No hot loop: nothing runs again, no queue holds a copy, no effect was committed.
    await sleep(3_000);
    expect(failuresOf(poison.id)).toHaveLength(RETRY_DELAYS_MS.length + 1);
    for (const queue of [mainQueue, ...RETRY_DELAYS_MS.map((_, i) => `${mainQueue}.retry.${i + 1}`)]) {
      expect({ queue, messages: await probe.messageCount(queue) }).toEqual({ queue, messages: 0 });
    }
    expect(await processed(poison.id)).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${integration.httpPort}/metrics`)).text();
    const count = (outcome: string) => processingCount(metrics, PLATFORM_EVENTS_CONSUMER, outcome);
    expect({
      retried: count('retried'),
      dead_lettered: count('dead_lettered'),
      acked: count('acked'),
    }).toEqual({
      retried: 3,
      dead_lettered: 2,
      acked: 1,
    });
  });

  function failuresOf(eventId: string): Record<string, unknown>[] {
    return integration
      .logLines()
      .filter(
        (line) =>
          line['event_id'] === eventId &&
          line['queue'] === mainQueue &&
          String(line['message']).startsWith('event handler failed'),
      );
  }

  async function processed(eventId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1 AND event_id = $2::uuid',
      [PLATFORM_EVENTS_CONSUMER, eventId],
    );
    return rows[0].n;
  }

  async function drain(queue: string): Promise<GetMessage[]> {
    const messages: GetMessage[] = [];
    for (let next = await probe.get(queue); next; next = await probe.get(queue)) messages.push(next);
    return messages;
  }
});

function message(id: string, type: string, body: string) {
  return { routingKey: type, body: Buffer.from(body), options: { messageId: id, type } };
}

/** `amqp_message_processing_seconds_count` of one queue and outcome, summed over event types. */
function processingCount(metrics: string, queue: string, outcome: string): number {
  return metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('amqp_message_processing_seconds_count{') &&
        line.includes(`queue="${queue}"`) &&
        line.includes(`outcome="${outcome}"`),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
