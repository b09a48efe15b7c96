import { randomUUID } from 'node:crypto';
import type { Logger } from '@te/platform';
import { WebhookDeliveryRepository } from '../db/webhook-delivery.repository.js';
import { attemptConnectorDelivery } from './attempt-connector-delivery.js';
import { attemptDelivery, type AttemptDeps } from './attempt-delivery.js';

export interface DispatcherOptions extends AttemptDeps {
  /** Attempts in flight at once in this replica (WEBHOOK_DELIVERY_CONCURRENCY). */
  concurrency: number;
  /** How often due deliveries are looked for when nothing wakes the dispatcher. */
  pollIntervalMs: number;
  /** A claim lasts this long; past it another replica may take the delivery over. */
  leaseMs: number;
  logger: Logger;
}

/**
 * The durable delivery schedule's runner: pending rows in webhook_deliveries are the schedule (they
 * survive restarts); every replica polls for due ones, leases a batch (FOR UPDATE SKIP LOCKED) no
 * larger than its free slots, and attempts them concurrently. notify() wakes it at once (a new
 * delivery due now). stop() stops claiming and waits for the attempts in flight, so a clean
 * shutdown records every attempt it made.
 */
export class WebhookDispatcher {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private woken = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  notify(): void {
    this.woken = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { concurrency, logger } = this.options;
    while (this.running) {
      this.woken = false;
      const free = concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          claimed = this.launch(await this.claim(free));
        } catch (error) {
          logger.warn('webhook deliveries could not be claimed; retrying at the next poll', { err: error });
        }
      }
      // A full batch means more may be due: look again at once (when a slot is free).
      if (this.running && !(claimed === free && free > 0)) await this.sleep();
    }
  }

  private claim(limit: number) {
    const now = new Date();
    return new WebhookDeliveryRepository(this.options.db).claimDue(
      limit,
      now,
      new Date(now.getTime() + this.options.leaseMs),
      randomUUID(),
    );
  }

  private launch(claimed: Awaited<ReturnType<WebhookDispatcher['claim']>>): number {
    for (const delivery of claimed) {
      // One schedule for both kinds of target: webhook endpoints and connectors (decision 0024).
      const attempt = delivery.connectorId ? attemptConnectorDelivery : attemptDelivery;
      const task: Promise<void> = attempt(delivery, this.options)
        .catch((error: unknown) => {
          this.options.logger.error(
            'webhook attempt failed to run; the lease will expire and it is retried',
            {
              delivery_id: delivery.id,
              err: error,
            },
          );
        })
        .finally(() => {
          this.inFlight.delete(task);
          this.notify(); // a slot is free
        });
      this.inFlight.add(task);
    }
    return claimed.length;
  }

  private sleep(): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollIntervalMs);
      timer.unref();
      this.wake = done;
    });
  }
}
