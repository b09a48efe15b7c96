import type { ConfirmChannel, Message, Options } from 'amqplib';
import { AppError } from '@te/platform';

export type PublishFailure = 'not_connected' | 'nacked' | 'unroutable' | 'channel_closed' | 'timeout';

export function publishFailure(reason: PublishFailure, message: string, cause?: unknown): AppError {
  return new AppError('UNAVAILABLE', message, { details: { reason }, cause });
}

export function failureReason(error: unknown): PublishFailure | undefined {
  return error instanceof AppError ? (error.details?.reason as PublishFailure | undefined) : undefined;
}

/**
 * Publishes on a confirm channel and settles only on the broker's answer: resolved on ack, rejected
 * (AppError UNAVAILABLE, `details.reason`) on nack, on basic.return (mandatory and unroutable), when the
 * channel closes first, after `timeoutMs`, or at once when no channel is attached (never buffered:
 * the caller, e.g. the outbox relay, decides when to try again).
 *
 * The broker sends basic.return before the ack of the same message on the same channel, so a return
 * is matched to its publish by message id when the ack arrives. Two unconfirmed publishes with one id
 * would be ambiguous, so publishes that share an id are sent one after the other.
 */
export class ConfirmPublisher {
  private channel?: ConfirmChannel;
  private readonly returned = new Set<string>();
  private readonly lastById = new Map<string, Promise<void>>();

  constructor(private readonly timeoutMs: number) {}

  attach(channel: ConfirmChannel): void {
    this.returned.clear();
    channel.on('return', (message: Message) => {
      if (message.properties.messageId) this.returned.add(message.properties.messageId);
    });
    this.channel = channel;
  }

  detach(): void {
    this.channel = undefined;
  }

  get attached(): boolean {
    return this.channel !== undefined;
  }

  async send(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish & { messageId: string },
  ): Promise<void> {
    const id = options.messageId;
    const previous = this.lastById.get(id);
    const send = () => this.sendNow(exchange, routingKey, content, options);
    const current = previous ? previous.then(send, send) : send();
    this.lastById.set(id, current);
    try {
      await current;
    } finally {
      if (this.lastById.get(id) === current) this.lastById.delete(id);
    }
  }

  private sendNow(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish & { messageId: string },
  ): Promise<void> {
    const channel = this.channel;
    if (!channel) return Promise.reject(publishFailure('not_connected', 'Event bus is not connected'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(publishFailure('timeout', `No broker confirm within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      try {
        channel.publish(exchange, routingKey, content, options, (error: unknown) => {
          clearTimeout(timer);
          const wasReturned = this.returned.delete(options.messageId);
          if (error) {
            const nacked = (error as Error).message === 'message nacked';
            reject(
              nacked
                ? publishFailure('nacked', 'The broker refused the message (nack)', error)
                : publishFailure('channel_closed', 'The channel closed before the broker confirmed', error),
            );
          } else if (wasReturned) {
            reject(
              publishFailure(
                'unroutable',
                `No queue is bound for routing key "${routingKey}" on "${exchange || '(default)'}"`,
              ),
            );
          } else {
            resolve();
          }
        });
      } catch (error) {
        // amqplib throws synchronously once the channel is closed (IllegalOperationError).
        clearTimeout(timer);
        reject(publishFailure('not_connected', 'Event bus channel is closed', error));
      }
    });
  }
}
