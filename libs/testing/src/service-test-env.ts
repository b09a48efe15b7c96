import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { testAmqp, type TestAmqp } from './test-amqp.js';
import { testRedisPrefix } from './test-redis.js';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface ServiceTestEnv {
  /** Environment for the service under test: isolated database, exchange, queue and key prefixes, free ports. */
  env: Record<string, string>;
  database?: TestDatabase;
  amqp: TestAmqp;
  /** Drops the database, deletes the registered queues, the exchange and the Redis keys of this run. */
  cleanup(): Promise<void>;
}

export interface ServiceTestEnvOptions {
  /** The service's Prisma schema; a database `<databaseName>_t<runid>_<rand>` is migrated from it. */
  schemaPath?: string;
  databaseName?: string;
  /** Queues the service declares (unprefixed), so cleanup removes them. */
  queues?: string[];
  /** Share one exchange between several services of an end-to-end run. */
  amqp?: TestAmqp;
}

/**
 * Everything a service needs to run in a test without touching anyone else's data: its own migrated
 * database, this run's exchange and queue prefix, this run's Redis key prefix, and port 0 everywhere.
 */
export async function createServiceTestEnv(options: ServiceTestEnvOptions = {}): Promise<ServiceTestEnv> {
  const amqp = options.amqp ?? testAmqp();
  for (const queue of options.queues ?? []) amqp.registerQueue(queue);
  const redis = testRedisPrefix();
  const database =
    options.schemaPath && options.databaseName
      ? await createTestDatabase({ schemaPath: options.schemaPath, name: options.databaseName })
      : undefined;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    OPS_PORT: '0',
    AMQP_URL: amqp.url,
    AMQP_EXCHANGE: amqp.exchange,
    AMQP_QUEUE_PREFIX: amqp.queuePrefix,
    REDIS_URL: process.env['REDIS_URL'] || DEFAULT_REDIS_URL,
    REDIS_KEY_PREFIX: redis.prefix,
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  return {
    env,
    database,
    amqp,
    async cleanup() {
      const client = new Redis(env['REDIS_URL']);
      try {
        await redis.cleanup(client);
      } finally {
        client.disconnect();
      }
      await database?.drop();
      if (!options.amqp) await amqp.cleanup();
    },
  };
}
