import { commonConfigSchema, env } from '@te/platform';
import { z } from 'zod';

export interface ServiceDefaults {
  /** Default SERVICE_NAME, e.g. 'user-service'. */
  name: string;
  grpcPort: number;
  /** The ops port: /healthz, /readyz, /metrics. */
  httpPort: number;
  /** Default database name on the local PostgreSQL, e.g. 'te_user'. */
  database: string;
}

/**
 * The variables every backend service reads (ports, PostgreSQL, Redis, RabbitMQ), with the service's
 * defaults. A service extends it with its own keys: `serviceConfigSchema({...}).extend({ ... })`.
 */
export function serviceConfigSchema(defaults: ServiceDefaults) {
  return commonConfigSchema.extend({
    SERVICE_NAME: z.string().min(1).default(defaults.name),
    GRPC_PORT: env.port(defaults.grpcPort),
    HTTP_PORT: env.port(defaults.httpPort).describe('ops port: /healthz, /readyz, /metrics'),
    DATABASE_URL: env.url().default(`postgresql://postgres@127.0.0.1:5432/${defaults.database}`),
    DATABASE_POOL_SIZE: env.positiveInt(10),
    REDIS_URL: env.url().default('redis://127.0.0.1:6379'),
    REDIS_KEY_PREFIX: z.string().default('te:'),
    AMQP_URL: env.url().default('amqp://guest:guest@127.0.0.1:5672?heartbeat=10'),
    AMQP_EXCHANGE: z.string().min(1).default('te.events'),
    AMQP_QUEUE_PREFIX: z.string().default(''),
  });
}

export type ServiceConfig = z.infer<ReturnType<typeof serviceConfigSchema>>;
