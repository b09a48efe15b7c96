import type pg from 'pg';
import { openTestPool } from '@te/testing';
import { AmqpProbe, MACHINE_AMQP_URL } from './amqp-probe.js';
import { cleanUp } from './clean-up.js';
import { FaultService } from './fault-service.js';
import { OwnBroker } from './own-broker.js';

/** What a scenario on a broker of its own runs: the broker, user-service and integration-service. */
export interface OwnBrokerScenario {
  broker: OwnBroker;
  users: FaultService;
  integration: FaultService;
  /** The test's own pools on each service's database. */
  userDb: pg.Pool;
  integrationDb: pg.Pool;
}

/** What a scenario on the machine's broker runs: integration-service alone and a probe beside it. */
export interface MachineBrokerScenario {
  integration: FaultService;
  /** The test's own pool on integration-service's database. */
  db: pg.Pool;
  probe: AmqpProbe;
}

/**
 * Registers the describe block's beforeAll (an OwnBroker node `label` started, then user-service and
 * integration-service on it, and a pool of `poolSize` connections on each database) and its afterAll
 * (cleanUp under `file`). The returned object's fields are set as beforeAll creates them, so clean-up
 * also removes what a set-up that failed half-way had started; read them in a later hook or a test.
 */
export function ownBrokerScenario(file: string, label: string, poolSize: number): OwnBrokerScenario {
  const scenario: Partial<OwnBrokerScenario> = {};
  beforeAll(async () => {
    const broker = (scenario.broker = await OwnBroker.create(label));
    await broker.start();
    const [users, integration] = ([scenario.users, scenario.integration] = await Promise.all([
      FaultService.create('user-service', { AMQP_URL: broker.url }),
      FaultService.create('integration-service', { AMQP_URL: broker.url }),
    ]));
    await Promise.all([users.start(), integration.start()]);
    scenario.userDb = openTestPool(users.databaseUrl, poolSize);
    scenario.integrationDb = openTestPool(integration.databaseUrl, poolSize);
  }, 240_000);

  afterAll(async () => {
    await cleanUp(file, {
      services: [scenario.users, scenario.integration],
      pools: [scenario.userDb, scenario.integrationDb],
      broker: scenario.broker,
    });
  }, 120_000);

  return scenario as OwnBrokerScenario;
}

/**
 * Registers the describe block's beforeAll (integration-service on the machine's RabbitMQ, with the
 * run's own exchange and queues, a pool of `poolSize` connections on its database and an AmqpProbe)
 * and its afterAll (cleanUp under `file`). Fields are set as in ownBrokerScenario.
 */
export function machineBrokerScenario(file: string, poolSize: number): MachineBrokerScenario {
  const scenario: Partial<MachineBrokerScenario> = {};
  beforeAll(async () => {
    const integration = (scenario.integration = await FaultService.create('integration-service', {
      AMQP_URL: MACHINE_AMQP_URL,
    }));
    await integration.start();
    scenario.db = openTestPool(integration.databaseUrl, poolSize);
    scenario.probe = await AmqpProbe.open(MACHINE_AMQP_URL);
  }, 240_000);

  afterAll(async () => {
    await cleanUp(file, { services: [scenario.integration], pools: [scenario.db], probes: [scenario.probe] });
  }, 120_000);

  return scenario as MachineBrokerScenario;
}
