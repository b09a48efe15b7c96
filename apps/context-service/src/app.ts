import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { ContextServiceConfig } from './config.js';
import { createContextDb } from './db/prisma-client.js';

/**
 * Composition root: the service defaults (gRPC server with health and reflection, ops endpoints,
 * PostgreSQL, Redis, RabbitMQ, outbox relay, scheduler). Its own RPCs and consumers come with its issue.
 */
export function createContextServiceApp(
  config: ContextServiceConfig,
  options: { logger?: Logger } = {},
): ServiceHost {
  const database = createContextDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  return new ServiceHost({ config, database, logger: options.logger });
}
