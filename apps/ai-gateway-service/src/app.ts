import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { AiGatewayServiceConfig } from './config.js';
import { createAiGatewayDb } from './db/prisma-client.js';

/**
 * Composition root: the service defaults (gRPC server with health and reflection, ops endpoints,
 * PostgreSQL, Redis, RabbitMQ, outbox relay, scheduler). Its own RPCs and consumers come with its issue.
 */
export function createAiGatewayServiceApp(
  config: AiGatewayServiceConfig,
  options: { logger?: Logger } = {},
): ServiceHost {
  const database = createAiGatewayDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  return new ServiceHost({ config, database, logger: options.logger });
}
