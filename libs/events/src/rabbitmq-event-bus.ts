import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { AppError, type Logger, type Metrics } from '@te/platform';
import { isValidEventType, type EventEnvelope } from './event-envelope.js';
import type { EventBus, SubscribeOptions } from './event-bus.js';
import { ConfirmPublisher, failureReason } from './rabbitmq/confirm-publisher.js';
import { ConnectionManager, type ReconnectOptions } from './rabbitmq/connection-manager.js';
import { eventPublishOptions } from './rabbitmq/message-properties.js';
import { QueueConsumer, type Subscription } from './rabbitmq/queue-consumer.js';
import { DEFAULT_RETRY_DELAYS_MS, validateRetryDelays } from './rabbitmq/retry-policy.js';
import { assertConsumerTopology, assertExchange, consumerQueueNames } from './rabbitmq/topology.js';

export interface RabbitMqEventBusOptions {
  url: string;
  /** The durable topic exchange every service publishes to (AMQP_EXCHANGE). */
  exchange: string;
  /** Prepended to every queue name (AMQP_QUEUE_PREFIX); tests isolate runs with it. */
  queuePrefix?: string;
  logger: Logger;
  metrics: Metrics;
  /** Shown in the broker's connection list: which service and replica this is. */
  connectionName: string;
  /** How long publish() waits for the broker's confirm (default 10 s). */
  publishTimeoutMs?: number;
  /** Redeliveries the broker allows before dead-lettering a message on its own (default 20). */
  deliveryLimit?: number;
  /** Retries of the first connection before connect() rejects (default 5, about 15 s). */
  connectRetries?: number;
  reconnect?: ReconnectOptions;
}

// A topic binding: words, `*` or `#`, separated by dots.
const BINDING_PATTERN = /^([A-Za-z0-9_-]+|\*|#)(\.([A-Za-z0-9_-]+|\*|#))*$/;

/**
 * The RabbitMQ event bus: publishes envelopes to one durable topic exchange (routing key = event type)
 * with publisher confirms, and runs subscriptions with manual acks, retries and a DLQ (see README).
 */
export class RabbitMqEventBus implements EventBus {
  private readonly publisher: ConfirmPublisher;
  private readonly connection: ConnectionManager;
  private readonly consumers = new Map<string, QueueConsumer>();
  /** Queues declared without consuming (declareQueue), declared again on every connection. */
  private readonly declaredQueues = new Map<string, Required<QueueDeclaration>>();
  private readonly inFlight = new Set<Promise<void>>();
  private closing?: Promise<void>;

  constructor(private readonly options: RabbitMqEventBusOptions) {
    this.publisher = new ConfirmPublisher(options.publishTimeoutMs ?? 10_000);
    this.connection = new ConnectionManager({
      url: options.url,
      connectionName: options.connectionName,
      logger: options.logger,
      reconnect: options.reconnect,
      connectRetries: options.connectRetries,
      setup: (model) => this.setup(model),
      onConnect: (model) => this.startConsumers(model),
      onDisconnect: () => this.publisher.detach(),
    });
  }

  connect(): Promise<void> {
    return this.connection.connect();
  }

  /** Resolves once the broker has the message (confirmed and routed); rejects with AppError UNAVAILABLE otherwise. */
  async publish(event: EventEnvelope): Promise<void> {
    const { metrics, logger, exchange } = this.options;
    if (this.closing)
      throw new AppError('UNAVAILABLE', 'Event bus is closed', { details: { reason: 'not_connected' } });
    if (!isValidEventType(event.type))
      throw new AppError('VALIDATION_FAILED', `Invalid event type "${event.type}"`);
    try {
      await this.publisher.send(
        exchange,
        event.type,
        Buffer.from(JSON.stringify(event)),
        eventPublishOptions(event),
      );
    } catch (error) {
      const reason = failureReason(error);
      const outcome = reason === 'nacked' || reason === 'unroutable' ? reason : 'failed';
      metrics.amqpPublished.inc({ type: event.type, outcome });
      logger.warn('event publish failed', {
        event_id: event.id,
        type: event.type,
        reason,
        error: (error as Error).message,
      });
      throw error;
    }
    metrics.amqpPublished.inc({ type: event.type, outcome: 'confirmed' });
    logger.debug('event published', { event_id: event.id, type: event.type });
  }

  /**
   * Declares `<prefix><queue>` (+ retry queues and DLQ) and binds it, without consuming; again after
   * every reconnection. For work queues a producer feeds while its consumers may run elsewhere (a worker
   * deployment): jobs published before any worker is up wait in the queue instead of being unroutable.
   * Use the same queue name, bindings and retry delays as the consumer's subscribe() (the broker refuses
   * a redeclaration with other arguments).
   */
  async declareQueue(options: QueueDeclaration): Promise<void> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'Event bus is closed');
    const declaration: Required<QueueDeclaration> = {
      queue: options.queue,
      bindings: options.bindings,
      retryDelaysMs: options.retryDelaysMs ?? [...DEFAULT_RETRY_DELAYS_MS],
    };
    validateDeclaration(declaration);
    this.declaredQueues.set(declaration.queue, declaration);
    const model = this.connection.model;
    if (model) await this.declareOn(model, declaration);
  }

  private async declareOn(model: ChannelModel, declaration: Required<QueueDeclaration>): Promise<void> {
    const { retryDelaysMs } = declaration;
    const channel = await model.createChannel();
    try {
      await assertConsumerTopology(channel, {
        exchange: this.options.exchange,
        deliveryLimit: this.options.deliveryLimit ?? 20,
        names: consumerQueueNames(this.options.queuePrefix ?? '', declaration.queue, retryDelaysMs.length),
        bindings: declaration.bindings,
        retryDelaysMs,
      });
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /**
   * Declares `<prefix><queue>` (+ retry queues and DLQ), binds it and starts consuming. Before connect()
   * or during a reconnect the subscription is kept and started with the next connection. With
   * `broadcast: true`, this process's own exclusive queue instead (see SubscribeOptions.broadcast).
   */
  async subscribe<T = unknown>(options: SubscribeOptions<T>): Promise<void> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'Event bus is closed');
    const sub: Subscription = {
      queue: options.queue,
      bindings: options.bindings,
      handler: options.handler as SubscribeOptions['handler'],
      prefetch: options.prefetch ?? 50,
      retryDelaysMs: options.retryDelaysMs ?? [...DEFAULT_RETRY_DELAYS_MS],
      broadcast: options.broadcast ?? false,
      onGap: options.onGap,
    };
    validateSubscription(sub, options);
    if (this.consumers.has(sub.queue))
      throw new AppError('CONFLICT', `Queue "${sub.queue}" already has a subscription`);
    const consumer = new QueueConsumer(sub, {
      exchange: this.options.exchange,
      queuePrefix: this.options.queuePrefix ?? '',
      deliveryLimit: this.options.deliveryLimit ?? 20,
      logger: this.options.logger,
      metrics: this.options.metrics,
      publisher: this.publisher,
      track: (work) => this.track(work),
      isClosing: () => this.closing !== undefined,
      onChannelLost: (reason) => this.connection.forceReconnect(reason),
    });
    this.consumers.set(sub.queue, consumer);
    const model = this.connection.model;
    if (!model) return;
    try {
      await consumer.start(model);
    } catch (error) {
      this.consumers.delete(sub.queue);
      await consumer.close();
      throw new AppError(
        'UNAVAILABLE',
        `Could not subscribe "${consumer.queue}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.options.logger.info('subscribed', {
      queue: consumer.queue,
      bindings: sub.bindings,
      broadcast: sub.broadcast,
    });
  }

  /** For Health.addReadinessCheck: fails while disconnected, reconnecting or closing. */
  readinessCheck(): () => Promise<void> {
    return async () => {
      if (this.closing) throw new AppError('UNAVAILABLE', 'Event bus is closing');
      if (!this.connection.connected || !this.publisher.attached)
        throw new AppError('UNAVAILABLE', 'Event bus is not connected to RabbitMQ');
    };
  }

  /** Stops consuming, waits for running handlers (and their acks), then closes; never reconnects after. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.cancel()));
    // Deliveries already on the wire when the cancel went out still run: loop until none is left.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.close()));
    this.publisher.detach();
    await this.connection.close();
    this.options.logger.info('event bus closed');
  }

  private async setup(model: ChannelModel): Promise<void> {
    const channel: ConfirmChannel = await model.createConfirmChannel();
    channel.on('error', (error: Error) =>
      this.options.logger.warn('publisher channel error', { error: error.message }),
    );
    await assertExchange(channel, this.options.exchange);
    for (const declaration of this.declaredQueues.values()) await this.declareOn(model, declaration);
    for (const consumer of this.consumers.values()) await consumer.start(model);
    this.publisher.attach(channel);
    channel.on('close', () => {
      this.publisher.detach();
      if (!this.closing) this.connection.forceReconnect('publisher channel closed');
    });
  }

  /** Subscriptions added while a reconnection's setup was running start here (no-op for the others). */
  private startConsumers(model: ChannelModel): void {
    for (const consumer of this.consumers.values()) {
      consumer
        .start(model)
        .catch((error: Error) =>
          this.connection.forceReconnect(`starting ${consumer.queue} failed: ${error.message}`),
        );
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    work.finally(() => this.inFlight.delete(work));
  }
}

function validateSubscription(sub: Subscription, given: Pick<SubscribeOptions, 'retryDelaysMs'>): void {
  const problems = queueProblems(sub);
  if (!Number.isInteger(sub.prefetch) || sub.prefetch < 1 || sub.prefetch > 65535)
    problems.push('prefetch must be 1..65535');
  if (sub.broadcast && given.retryDelaysMs !== undefined)
    problems.push('a broadcast subscription has no retry queues (no retryDelaysMs)');
  if (!sub.broadcast && sub.onGap !== undefined) problems.push('onGap is for broadcast subscriptions');
  if (problems.length > 0)
    throw new AppError('VALIDATION_FAILED', `Invalid subscription "${sub.queue}": ${problems.join('; ')}`);
}

function validateDeclaration(declaration: Required<QueueDeclaration>): void {
  const problems = queueProblems(declaration);
  if (problems.length > 0)
    throw new AppError('VALIDATION_FAILED', `Invalid queue "${declaration.queue}": ${problems.join('; ')}`);
}

function queueProblems(queue: Required<QueueDeclaration>): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_.-]+$/.test(queue.queue)) problems.push('queue must be letters, digits, _ . or -');
  if (queue.bindings.length === 0 || queue.bindings.some((b) => !BINDING_PATTERN.test(b)))
    problems.push('bindings must be topic patterns');
  try {
    validateRetryDelays(queue.retryDelaysMs);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}

/** A queue to declare and bind without consuming from it (see declareQueue). */
export interface QueueDeclaration {
  queue: string;
  bindings: string[];
  retryDelaysMs?: number[];
}
