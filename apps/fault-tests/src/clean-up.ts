import type pg from 'pg';
import type { AmqpProbe } from './amqp-probe.js';
import type { FaultService } from './fault-service.js';
import type { OwnBroker } from './own-broker.js';

export interface FaultFixture {
  services?: (FaultService | undefined)[];
  pools?: (pg.Pool | undefined)[];
  probes?: (AmqpProbe | undefined)[];
  broker?: OwnBroker;
}

/**
 * afterAll of every scenario, also after a failure half-way: each step runs whatever the previous
 * ones did. Logs first (tmp/logs/<file>-<service>-<n>.log), then the services (SIGTERM: they close
 * their broker connections cleanly), the test's own connections, the run's databases, queues and
 * Redis keys (ServiceProcess.dispose), and the test's own broker last.
 */
export async function cleanUp(file: string, fixture: FaultFixture): Promise<void> {
  const problems: unknown[] = [];
  const attempt = async (step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (error) {
      problems.push(error);
    }
  };
  const services = (fixture.services ?? []).filter((service) => service !== undefined);
  for (const service of services) await attempt(() => service.writeLogs(file));
  for (const probe of fixture.probes ?? []) if (probe) await attempt(() => probe.close());
  for (const pool of fixture.pools ?? []) if (pool) await attempt(() => pool.end());
  await Promise.all(services.map((service) => attempt(() => service.dispose())));
  const broker = fixture.broker;
  if (broker) await attempt(() => broker.stop());
  if (problems.length > 0) throw new AggregateError(problems, `${file}: clean-up failed`);
}
