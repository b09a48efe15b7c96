import { captureLogger, createMetrics, type CapturedLogger, type Metrics } from '@te/platform';
import { consumerQueueNames, RabbitMqEventBus, type RabbitMqEventBusOptions } from '../../src/index.js';
import { AMQP_URL, RabbitAdmin } from './rabbit-admin.js';

export function newRunId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Per-run isolation as docs/architecture.md asks: exchange `te.events.t<runid>`, queue prefix
 * `t<runid>.`. Every queue a test subscribes is recorded so afterAll can delete it.
 */
export class BusFixture {
  readonly runId = newRunId();
  readonly exchange = `te.events.t${this.runId}`;
  readonly prefix = `t${this.runId}.`;
  private readonly queues = new Set<string>();
  private readonly buses: RabbitMqEventBus[] = [];
  admin!: RabbitAdmin;

  async init(): Promise<void> {
    this.admin = await RabbitAdmin.open();
  }

  bus(overrides: Partial<RabbitMqEventBusOptions> = {}): {
    bus: RabbitMqEventBus;
    log: CapturedLogger;
    metrics: Metrics;
  } {
    const log = captureLogger('events-test');
    const metrics = createMetrics({ service: 'events-test', defaultMetrics: false });
    const bus = new RabbitMqEventBus({
      url: AMQP_URL,
      exchange: this.exchange,
      queuePrefix: this.prefix,
      logger: log.logger,
      metrics,
      connectionName: `events-test-${this.runId}`,
      connectRetries: 0,
      ...overrides,
    });
    this.buses.push(bus);
    return { bus, log, metrics };
  }

  /** Records the queues of a subscription (main, retries, DLQ) for cleanup and returns their names. */
  queue(queue: string, retries = 3) {
    const names = consumerQueueNames(this.prefix, queue, retries);
    for (const name of [names.main, ...names.retries, names.dlq]) this.queues.add(name);
    return names;
  }

  /** A raw queue name under this run's prefix, also cleaned up. */
  rawQueue(name: string): string {
    const full = `${this.prefix}${name}`;
    this.queues.add(full);
    return full;
  }

  async dispose(): Promise<void> {
    for (const bus of this.buses) await bus.close().catch(() => undefined);
    await this.admin.cleanup([this.exchange], [...this.queues]);
    await this.admin.close();
  }
}

export async function metricValue(
  metric: {
    get(): Promise<{ values: { labels: Record<string, unknown>; value: number; metricName?: string }[] }>;
  },
  labels: Record<string, string>,
  metricName?: string,
): Promise<number> {
  const { values } = await metric.get();
  const match = values.filter(
    (v) =>
      (!metricName || v.metricName === metricName) &&
      Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return match.reduce((sum, v) => sum + v.value, 0);
}
