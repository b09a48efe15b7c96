import type pg from 'pg';
import type { AmqpProbe } from './amqp-probe.js';
import type { FaultService } from './fault-service.js';
import type { OwnBroker } from './own-broker.js';
import type { OwnPostgres } from './own-postgres.js';
import type { OwnRedis } from './own-redis.js';

export interface FaultFixture {
  services?: (FaultService | undefined)[];
  pools?: (pg.Pool | undefined)[];
  probes?: (AmqpProbe | undefined)[];
  broker?: OwnBroker;
  /** Started again (if a test left it down) so the run's databases on it can be dropped, then removed. */
  postgres?: OwnPostgres;
  redis?: OwnRedis;
}

/**
 * afterAll of every scenario, also after a failure half-way: each step runs whatever the previous
 * ones did. Logs first (tmp/logs/<file>-<service>-<n>.log), then the services (SIGTERM: they close
 * their broker connections cleanly), the test's own connections, the run's databases, queues and
 * Redis keys (ServiceProcess.dispose), and the test's own broker, Redis and PostgreSQL last.
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
  // A paused (SIGSTOPped) process would ignore SIGTERM until the kill timeout.
  for (const service of services) await attempt(async () => service.resume());
  const postgres = fixture.postgres;
  if (postgres) await attempt(() => postgres.ensureRunning());
  for (const service of services) await attempt(() => service.writeLogs(file));
  for (const probe of fixture.probes ?? []) if (probe) await attempt(() => probe.close());
  for (const pool of fixture.pools ?? []) if (pool) await attempt(() => pool.end());
  await Promise.all(services.map((service) => attempt(() => service.dispose())));
  const broker = fixture.broker;
  if (broker) await attempt(() => broker.stop());
  const redis = fixture.redis;
  if (redis) await attempt(() => redis.stop());
  if (postgres) await attempt(() => postgres.stop());
  if (problems.length > 0) throw new AggregateError(problems, `${file}: clean-up failed`);
}
