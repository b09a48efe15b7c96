import type pg from 'pg';
import { classifyDatabaseError, databaseReadinessCheck } from '@te/database';
import {
  OutboxRelay,
  purgeProcessed,
  purgePublished,
  RabbitMqEventBus,
  type QueueDeclaration,
  type SubscribeOptions,
  type TransactionalSqlExecutor,
} from '@te/events';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from '@te/grpc';
import {
  closeInOrder,
  closeRedis,
  createLogger,
  createMetrics,
  createOpsServer,
  createRedis,
  Health,
  redisReadinessCheck,
  Scheduler,
  type Logger,
  type Metrics,
  type Redis,
} from '@te/platform';
import type { ServiceConfig } from './service-config.js';

export interface ServiceDatabase {
  /** The service's generated PrismaClient (outbox relay, purge jobs, idempotent consumers). */
  db: TransactionalSqlExecutor & { $disconnect(): Promise<void> };
  pool: pg.Pool;
}

export interface ServiceHostOptions {
  config: ServiceConfig;
  database: ServiceDatabase;
  logger?: Logger;
  /**
   * grpc-js server options for this service's gRPC server, merged over the keepalive defaults, e.g.
   * `{ 'grpc.max_receive_message_length': 16 * 1024 * 1024 }` for a service that accepts uploads
   * (default 4 MiB; larger requests are refused as PAYLOAD_TOO_LARGE) or
   * `'grpc.max_send_message_length'`. Clients raise their own receive limit with
   * createGrpcClient's `channelOptions`.
   */
  grpcServerOptions?: GrpcServerOptions['serverOptions'];
}

/** Published outbox rows and processed-event records are kept this long, then purged hourly. */
export const EVENT_BOOKKEEPING_RETENTION_MS = 7 * 24 * 3600_000;

/**
 * Service defaults (the role of eShop's ServiceDefaults): everything a backend service has whatever
 * its domain — logger, metrics, readiness of its own PostgreSQL/Redis/RabbitMQ, the gRPC server with
 * health and reflection, the ops server, the event bus with its outbox relay, the maintenance
 * scheduler — started and stopped in a fixed order. The service adds its handlers and consumers.
 */
export class ServiceHost {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health = new Health();
  readonly redis: Redis;
  readonly bus: RabbitMqEventBus;
  readonly relay: OutboxRelay;
  readonly scheduler: Scheduler;
  readonly grpc: GrpcServer;
  private readonly subscriptions: SubscribeOptions<never>[] = [];
  private readonly declarations: QueueDeclaration[] = [];
  private readonly closers: [string, () => Promise<void> | void][] = [];
  private readonly workers: { start(): void }[] = [];
  private readonly ops;

  constructor(private readonly options: ServiceHostOptions) {
    const { config, database } = options;
    const service = config.SERVICE_NAME;
    this.logger = options.logger ?? createLogger({ service, level: config.LOG_LEVEL });
    this.metrics = createMetrics({ service });
    const { logger, metrics } = this;

    this.redis = createRedis({
      url: config.REDIS_URL,
      keyPrefix: config.REDIS_KEY_PREFIX,
      logger,
      name: service,
    });
    this.bus = new RabbitMqEventBus({
      url: config.AMQP_URL,
      exchange: config.AMQP_EXCHANGE,
      queuePrefix: config.AMQP_QUEUE_PREFIX,
      logger,
      metrics,
      connectionName: service,
    });
    this.relay = new OutboxRelay({ db: database.db, bus: this.bus, logger, metrics });
    this.scheduler = new Scheduler({ redis: this.redis, logger, service, metrics });
    this.scheduler.every('event-bookkeeping-purge', 3600_000, async () => {
      const published = await purgePublished(database.db, EVENT_BOOKKEEPING_RETENTION_MS);
      const processed = await purgeProcessed(database.db, EVENT_BOOKKEEPING_RETENTION_MS);
      logger.info('event bookkeeping purged', { outbox_rows: published, processed_rows: processed });
    });

    this.health.addReadinessCheck('postgres', databaseReadinessCheck(database.pool));
    this.health.addReadinessCheck('redis', redisReadinessCheck(this.redis));
    this.health.addReadinessCheck('rabbitmq', this.bus.readinessCheck());

    this.grpc = createGrpcServer({
      logger,
      metrics,
      health: this.health,
      serverOptions: options.grpcServerOptions,
      // The database down is UNAVAILABLE (503 at the gateway, fail fast), not an internal error.
      classifyError: classifyDatabaseError,
    });
    this.ops = createOpsServer({
      port: config.HTTP_PORT,
      host: config.HTTP_HOST,
      health: this.health,
      metrics,
      logger,
    });
  }

  /** Registers a consumer; it subscribes when the host starts. */
  consume<T>(subscription: SubscribeOptions<T>): void {
    this.subscriptions.push(subscription as SubscribeOptions<never>);
  }

  /**
   * Registers a work queue this service feeds but may not consume itself (its worker runs elsewhere):
   * declared and bound when the host starts, so jobs wait in it until a worker takes them.
   */
  declareQueue(declaration: QueueDeclaration): void {
    this.declarations.push(declaration);
  }

  /**
   * Registers something of the service's own to close on stop (a gRPC client, an OCR worker pool):
   * after the event bus, so consumers that use it have finished, and before the database. Closed in
   * the order registered; a failure is logged and the rest still close.
   */
  onStop(name: string, close: () => Promise<void> | void): void {
    this.closers.push([name, close]);
  }

  /**
   * A loop of the service's own (a dispatcher, a poller) that runs from start() to stop(): started
   * after the outbox relay and the scheduler, stopped in onStop's place (after the event bus, before
   * the database).
   */
  runInBackground(name: string, worker: { start(): void; stop(): Promise<void> | void }): void {
    this.workers.push(worker);
    this.onStop(name, () => worker.stop());
  }

  /** Connects, subscribes, then serves. Resolves with the bound ports (0 in config picks free ones). */
  async start(): Promise<{ grpcPort: number; opsPort: number }> {
    const { config } = this.options;
    await this.redis.connect();
    await this.bus.connect();
    for (const declaration of this.declarations) await this.bus.declareQueue(declaration);
    for (const subscription of this.subscriptions) await this.bus.subscribe(subscription);
    this.relay.start();
    this.scheduler.start();
    for (const worker of this.workers) worker.start();
    const grpcPort = await this.grpc.start(config.GRPC_PORT, config.HTTP_HOST);
    const opsPort = await this.ops.start();
    this.logger.info(`${config.SERVICE_NAME} started`, { grpc_port: grpcPort, ops_port: opsPort });
    return { grpcPort, opsPort };
  }

  /**
   * Stop accepting calls and let in-flight ones finish → stop maintenance → publish what the relay
   * holds → stop consuming (in-flight handlers finish) and close the broker connection → what was
   * registered with onStop → database →
   * Redis → ops endpoints last, so probes answer until the end.
   */
  async stop(): Promise<void> {
    const { config, database } = this.options;
    await closeInOrder(this.logger, [
      ['grpc server (drain in-flight calls)', () => this.grpc.stop(Math.floor(config.SHUTDOWN_GRACE_MS / 2))],
      ['scheduler', () => this.scheduler.stop()],
      ['outbox relay', () => this.relay.stop()],
      ['event bus (drain in-flight handlers)', () => this.bus.close()],
      ...this.closers.map(([name, close]): [string, () => Promise<void>] => [name, async () => close()]),
      [
        'database',
        async () => {
          await database.db.$disconnect();
          await database.pool.end();
        },
      ],
      ['redis', () => closeRedis(this.redis)],
      ['ops server', () => this.ops.stop()],
    ]);
  }
}
