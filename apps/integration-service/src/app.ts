import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { IntegrationServiceConfig } from './config.js';
import { createIntegrationDb } from './db/prisma-client.js';
import { CONSUMED_EVENT_TYPES, platformEventConsumer } from './events/platform-event.consumer.js';

/** Composition root: the service defaults plus what is integration-service's own. Nothing runs until start(). */
export function createIntegrationServiceApp(
  config: IntegrationServiceConfig,
  options: { logger?: Logger } = {},
): ServiceHost {
  const database = createIntegrationDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({ config, database, logger: options.logger });

  host.consume({
    queue: 'integration-service.platform-events',
    bindings: CONSUMED_EVENT_TYPES,
    handler: platformEventConsumer(database.db, host.logger),
  });
  return host;
}
