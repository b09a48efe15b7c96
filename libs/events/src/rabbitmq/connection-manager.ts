import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { AppError, type Logger } from '@te/platform';

export interface ReconnectOptions {
  /** First delay after a connection is lost; doubles up to `maxDelayMs`, each with ±50% jitter. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface ConnectionManagerOptions {
  url: string;
  connectionName: string;
  logger: Logger;
  /** Runs on every (re)connection before it counts as connected; a failure closes it and retries. */
  setup: (model: ChannelModel) => Promise<void>;
  /** After a (re)connection counts as connected: catches up on work registered while setup ran. */
  onConnect?: (model: ChannelModel) => void;
  onDisconnect: (error: Error) => void;
  reconnect?: ReconnectOptions;
  /** Retries of the very first connection before `connect()` rejects (start-up fails fast). */
  connectRetries?: number;
  /** Socket connect plus AMQP handshake, per attempt (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * One AMQP connection that comes back by itself. Built on amqplib's recovering connection (exponential
 * back-off with jitter, so replicas restarted together do not reconnect in lock-step); the `setup` hook
 * re-declares the topology and re-subscribes the consumers on each new connection.
 */
export class ConnectionManager {
  private recovering?: RecoveringChannelModel;
  private current?: ChannelModel;
  private closed = false;

  constructor(private readonly options: ConnectionManagerOptions) {}

  get connected(): boolean {
    return this.current !== undefined;
  }

  /** The live connection, or undefined while (re)connecting. */
  get model(): ChannelModel | undefined {
    return this.current;
  }

  async connect(): Promise<void> {
    if (this.closed) throw new AppError('UNAVAILABLE', 'Event bus is closed');
    if (this.recovering) return;
    const { logger, reconnect = {} } = this.options;
    const recovering = await connect(this.options.url, {
      // A broker that accepts TCP but never answers the handshake fails the attempt instead of hanging it.
      timeout: this.options.connectTimeoutMs ?? 10_000,
      clientProperties: { connection_name: this.options.connectionName },
      recovery: {
        initialDelay: reconnect.initialDelayMs ?? 500,
        maxDelay: reconnect.maxDelayMs ?? 30_000,
        factor: 2,
        jitter: 0.5,
        initialMaxRetries: this.options.connectRetries ?? 5,
        maxRetries: Infinity,
        // Listeners first, then wait: 'connect' may fire before an awaited connect() would return.
        waitForConnect: false,
        setup: async (model: ChannelModel) => {
          // A connection-level error during setup must not crash the process for want of a listener.
          model.on('error', (error: Error) => logger.warn('amqp connection error', { error: error.message }));
          await this.options.setup(model);
        },
      },
    });
    this.recovering = recovering;
    recovering.on('connect', (model: ChannelModel) => {
      this.current = model;
      logger.info('event bus connected', { connection: this.options.connectionName });
      this.options.onConnect?.(model);
    });
    recovering.on('disconnect', (error: Error) => {
      this.current = undefined;
      logger.warn('event bus disconnected; reconnecting', { error: error.message });
      this.options.onDisconnect(error);
    });
    recovering.on('connect-failed', (error: Error) =>
      logger.warn('event bus connection attempt failed', { error: error.message }),
    );
    recovering.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
      logger.info('event bus reconnect scheduled', { attempt: info.attempt, delay_ms: info.delay }),
    );
    recovering.on('reconnect-failed', (error: Error) =>
      logger.error('event bus gave up connecting', { error: error.message }),
    );
    recovering.on('blocked', (reason: string) => logger.warn('broker blocked the connection', { reason }));
    recovering.on('unblocked', () => logger.info('broker unblocked the connection'));
    recovering.on('error', (error: Error) => logger.warn('amqp connection error', { error: error.message }));
    try {
      await recovering.waitForConnect();
    } catch (error) {
      this.recovering = undefined;
      throw new AppError('UNAVAILABLE', `Could not connect to RabbitMQ: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Drops the live connection so recovery rebuilds everything (used when a channel dies on its own). */
  forceReconnect(reason: string): void {
    const model = this.current;
    if (!model || this.closed) return;
    this.options.logger.warn('event bus rebuilding its connection', { reason });
    model.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const recovering = this.recovering;
    this.recovering = undefined;
    this.current = undefined;
    await recovering?.close();
  }
}
