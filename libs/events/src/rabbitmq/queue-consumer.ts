import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import {
  extractTraceContext,
  runWithRequestContext,
  SpanKind,
  withSpan,
  type Logger,
  type Metrics,
} from '@te/platform';
import { parseEnvelope, type EventEnvelope } from '../event-envelope.js';
import type { SubscribeOptions } from '../event-bus.js';
import type { ConfirmPublisher } from './confirm-publisher.js';
import {
  deadLetterHeaders,
  errorText,
  REQUEST_ID_HEADER,
  republishOptions,
  retryHeaders,
  traceCarrier,
} from './message-properties.js';
import { decideAfterFailure, readAttempts } from './retry-policy.js';
import {
  assertBroadcastQueue,
  assertConsumerTopology,
  broadcastQueueName,
  consumerQueueNames,
  type ConsumerQueueNames,
} from './topology.js';

/** `discarded`: a broadcast delivery dropped after its handler failed twice, or malformed (logged). */
export type ConsumeOutcome = 'acked' | 'retried' | 'dead_lettered' | 'requeued' | 'discarded';

export interface QueueConsumerDeps {
  exchange: string;
  queuePrefix: string;
  deliveryLimit: number;
  logger: Logger;
  metrics: Metrics;
  publisher: ConfirmPublisher;
  /** Registers a running delivery so close() can wait for it. */
  track(work: Promise<void>): void;
  isClosing(): boolean;
  /** The channel died while the connection may live: rebuild everything through the connection. */
  onChannelLost(reason: string): void;
}

/** A subscription with its defaults applied (`onGap` stays optional). */
export type Subscription = Required<Omit<SubscribeOptions, 'onGap'>> & Pick<SubscribeOptions, 'onGap'>;

/**
 * One subscription: its own channel (so prefetch and channel errors stay per queue), its queues, and
 * the fate of each delivery. A message is acked only after its copy in the retry queue or DLQ is
 * confirmed; if that copy cannot be made it is requeued, so nothing is lost (the broker's delivery
 * limit then bounds the loop).
 *
 * A broadcast subscription (`sub.broadcast`) consumes its own exclusive queue instead, declared anew
 * on every connection; a failed handler gets one redelivery, then the event is dropped (logged and
 * counted): the subscriber's periodic reload is its guarantee, and `onGap` tells it when a new
 * connection means events were missed.
 */
export class QueueConsumer {
  readonly names: ConsumerQueueNames;
  private channel?: Channel;
  private consumerTag?: string;
  /** The connection this consumer runs (or is starting) on: start() is a no-op for it. */
  private startedOn?: ChannelModel;
  /** The queue consumed: `names.main`, or this connection's broadcast queue. */
  private current: string;
  /** A broadcast subscription ran before: the next one follows a gap. */
  private subscribedBefore = false;

  constructor(
    private readonly sub: Subscription,
    private readonly deps: QueueConsumerDeps,
  ) {
    this.names = consumerQueueNames(deps.queuePrefix, sub.queue, sub.retryDelaysMs.length);
    this.current = this.names.main;
  }

  /** The queue this consumer reads (for a broadcast subscription: the one of the current connection). */
  get queue(): string {
    return this.current;
  }

  /** Opens this consumer's channel on `model`, declares its queues and consumes. Idempotent per connection. */
  async start(model: ChannelModel): Promise<void> {
    if (this.startedOn === model) return;
    this.startedOn = model;
    let channel: Channel | undefined;
    try {
      channel = await model.createChannel();
      channel.on('error', (error: Error) =>
        this.deps.logger.warn('consumer channel error', { queue: this.current, error: error.message }),
      );
      await channel.prefetch(this.sub.prefetch);
      await this.declare(channel);
      this.channel = channel;
      await this.consume(channel);
      this.afterSubscribed();
    } catch (error) {
      if (this.startedOn === model) this.startedOn = undefined;
      if (this.channel === channel) this.channel = undefined;
      await channel?.close().catch(() => undefined);
      throw error;
    }
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.consumerTag = undefined;
      this.startedOn = undefined;
      if (!this.deps.isClosing()) this.deps.onChannelLost(`consumer channel of ${this.current} closed`);
    });
  }

  /** Stops new deliveries; deliveries already received keep running and settle on this channel. */
  async cancel(): Promise<void> {
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
  }

  /**
   * Closes the channel on its own before the connection goes: amqplib writes each channel through its
   * own buffer, so acks queued on this channel could otherwise be overtaken by the connection close and
   * lost (the messages would then be redelivered). Channel close-ok proves the broker saw them.
   */
  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    this.consumerTag = undefined;
    this.startedOn = undefined;
    await channel?.close().catch(() => undefined);
  }

  private async declare(channel: Channel): Promise<void> {
    const { exchange, deliveryLimit, queuePrefix } = this.deps;
    if (this.sub.broadcast) {
      const queue = broadcastQueueName(queuePrefix, this.sub.queue);
      await assertBroadcastQueue(channel, { exchange, queue, bindings: this.sub.bindings });
      this.current = queue;
      return;
    }
    return assertConsumerTopology(channel, {
      exchange,
      deliveryLimit,
      names: this.names,
      bindings: this.sub.bindings,
      retryDelaysMs: this.sub.retryDelaysMs,
    });
  }

  private async consume(channel: Channel): Promise<void> {
    const { consumerTag } = await channel.consume(this.current, (message) => {
      // null = the broker cancelled us (queue deleted, node lost). Treated as a message it would throw
      // inside amqplib's dispatch and take the process down.
      if (message === null) return this.onBrokerCancel(channel);
      this.deps.track(this.handle(channel, message));
    });
    this.consumerTag = consumerTag;
  }

  private onBrokerCancel(channel: Channel): void {
    this.consumerTag = undefined;
    if (this.deps.isClosing()) return;
    this.deps.logger.warn('broker cancelled the consumer; declaring the queue again and resubscribing', {
      queue: this.current,
    });
    setTimeout(() => {
      if (this.deps.isClosing() || this.channel !== channel) return;
      this.declare(channel)
        .then(() => this.consume(channel))
        .then(() => {
          this.deps.logger.info('consumer resubscribed', { queue: this.current });
          this.afterSubscribed();
        })
        .catch((error: Error) =>
          this.deps.onChannelLost(`resubscribing ${this.current} failed: ${error.message}`),
        );
    }, 500);
  }

  /** For a broadcast subscription re-established after a gap: log it and run `onGap` (tracked by close()). */
  private afterSubscribed(): void {
    if (!this.sub.broadcast) return;
    const gap = this.subscribedBefore;
    this.subscribedBefore = true;
    if (!gap) return;
    const { logger, track } = this.deps;
    logger.warn('broadcast subscription re-established; events published meanwhile were missed', {
      queue: this.current,
    });
    const onGap = this.sub.onGap;
    if (!onGap) return;
    track(
      (async () => onGap())().catch((error: unknown) => {
        logger.error('broadcast gap callback failed', { queue: this.current, error: errorText(error) });
      }),
    );
  }

  private async handle(channel: Channel, message: ConsumeMessage): Promise<void> {
    const started = performance.now();
    let type = 'invalid';
    let outcome: ConsumeOutcome = 'requeued';
    try {
      const attempts = this.sub.broadcast
        ? Number(message.fields.redelivered)
        : readAttempts(message.properties.headers);
      let event: EventEnvelope;
      try {
        event = parseEnvelope(message.content);
      } catch (error) {
        if (this.sub.broadcast) {
          this.deps.logger.error('malformed message; dropping it', {
            queue: this.current,
            message_id: message.properties.messageId,
            error: errorText(error),
          });
          this.settle(channel, message, 'ack');
          outcome = 'discarded';
          return;
        }
        // Malformed can never succeed: straight to the DLQ, no retry.
        this.deps.logger.error('malformed message; dead-lettering it', {
          queue: this.current,
          message_id: message.properties.messageId,
          error: errorText(error),
        });
        const moved = await this.divert(
          channel,
          message,
          this.names.dlq,
          deadLetterHeaders(attempts + 1, 'malformed', error, this.names.main),
        );
        outcome = moved ? 'dead_lettered' : 'requeued';
        return;
      }
      type = event.type;
      try {
        await this.runHandler(event, message, attempts);
        this.settle(channel, message, 'ack');
        outcome = 'acked';
      } catch (error) {
        outcome = this.sub.broadcast
          ? this.onBroadcastFailure(channel, message, event, error)
          : await this.onFailure(channel, message, event, attempts, error);
      }
    } finally {
      this.deps.metrics.amqpConsumeDuration.observe(
        { queue: this.sub.queue, type, outcome },
        (performance.now() - started) / 1000,
      );
    }
  }

  private runHandler(event: EventEnvelope, message: ConsumeMessage, attempts: number): Promise<void> {
    const headers = message.properties.headers;
    const headerRequestId = headers?.[REQUEST_ID_HEADER];
    const requestId = event.request_id ?? (typeof headerRequestId === 'string' ? headerRequestId : event.id);
    const attributes = {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': this.current,
      'messaging.message.id': event.id,
      'te.event.type': event.type,
      'te.event.attempt': attempts + 1,
    };
    const started = performance.now();
    return runWithRequestContext({ requestId }, () =>
      withSpan(
        `process ${event.type}`,
        attributes,
        async () => {
          await this.sub.handler(event);
          // Inside the request context and span: the line carries request_id and trace_id.
          this.deps.logger.info('event processed', {
            queue: this.current,
            event_id: event.id,
            type: event.type,
            attempt: attempts + 1,
            duration_ms: Math.round((performance.now() - started) * 10) / 10,
          });
        },
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(traceCarrier(event, headers)) },
      ),
    );
  }

  private async onFailure(
    channel: Channel,
    message: ConsumeMessage,
    event: EventEnvelope,
    attempts: number,
    error: unknown,
  ): Promise<ConsumeOutcome> {
    const decision = decideAfterFailure(attempts, this.sub.retryDelaysMs);
    const log = {
      queue: this.current,
      event_id: event.id,
      type: event.type,
      attempts: decision.attempts,
      error: errorText(error),
    };
    if (decision.action === 'retry') {
      this.deps.logger.warn('event handler failed; retrying', { ...log, retry_in_ms: decision.delayMs });
      const target = this.names.retries[decision.retry - 1];
      return (await this.divert(channel, message, target, retryHeaders(decision.attempts, error)))
        ? 'retried'
        : 'requeued';
    }
    this.deps.logger.error('event handler failed for the last time; dead-lettering', log);
    const headers = deadLetterHeaders(decision.attempts, 'handler_failed', error, this.names.main);
    return (await this.divert(channel, message, this.names.dlq, headers)) ? 'dead_lettered' : 'requeued';
  }

  /**
   * One immediate redelivery (a reload that met a passing database error), then drop it. `redelivered`
   * can only mean our own requeue: the exclusive queue and its deliveries die with their connection.
   */
  private onBroadcastFailure(
    channel: Channel,
    message: ConsumeMessage,
    event: EventEnvelope,
    error: unknown,
  ): ConsumeOutcome {
    const log = { queue: this.current, event_id: event.id, type: event.type, error: errorText(error) };
    if (!message.fields.redelivered) {
      this.deps.logger.warn('broadcast handler failed; redelivering once', log);
      this.settle(channel, message, 'requeue');
      return 'requeued';
    }
    this.deps.logger.error('broadcast handler failed again; dropping the event', log);
    this.settle(channel, message, 'ack');
    return 'discarded';
  }

  /** Copies the message to `queue` (through the default exchange), then acks the original. */
  private async divert(
    channel: Channel,
    message: ConsumeMessage,
    queue: string,
    headers: Record<string, string | number>,
  ): Promise<boolean> {
    const messageId = message.properties.messageId ?? randomUUID();
    try {
      await this.deps.publisher.send('', queue, message.content, {
        ...republishOptions(message, headers),
        messageId,
      });
    } catch (error) {
      this.deps.logger.error('could not move the message; requeueing it', {
        queue,
        message_id: messageId,
        error: (error as Error).message,
      });
      this.settle(channel, message, 'requeue');
      return false;
    }
    this.settle(channel, message, 'ack');
    return true;
  }

  private settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    try {
      if (how === 'ack') channel.ack(message);
      else channel.nack(message, false, true);
    } catch (error) {
      // The channel died (connection lost): the broker redelivers the message; idempotent handlers absorb it.
      this.deps.logger.warn('could not settle the message; the broker will redeliver it', {
        queue: this.current,
        how,
        error: (error as Error).message,
      });
    }
  }
}
