import { waitFor } from '@te/testing';
import type { ServiceName, SystemStack } from './system-stack.js';

// Reads of the slice's effects that arrive asynchronously (after the HTTP answer): each polls until
// the effect is there, so a test states what it expects rather than how long to sleep.

/** The relay is notified on commit and the consumer runs at once; allow for a loaded 2-core machine. */
export const EVENT_TIMEOUT_MS = 20_000;

export interface OutboxRow {
  id: string;
  type: string;
  envelope: Record<string, unknown>;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
}

export interface PlatformEventRow {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  occurred_at: Date;
  received_at: Date;
  data: Record<string, unknown>;
  request_id: string | null;
  traceparent: string | null;
}

/** user-service's outbox rows about `userId`, once the relay has published them all. */
export function publishedOutboxRows(stack: SystemStack, userId: string): Promise<OutboxRow[]> {
  return waitFor(
    async () => {
      const rows = await stack.query<OutboxRow>(
        'user-service',
        `SELECT id::text, type, envelope, published_at, attempts, last_error
           FROM outbox_events WHERE envelope->>'subject' = $1`,
        [userId],
      );
      return rows.length > 0 && rows.every((row) => row.published_at !== null) && rows;
    },
    {
      timeoutMs: EVENT_TIMEOUT_MS,
      intervalMs: 100,
      description: `the outbox rows of user ${userId} to be published`,
    },
  );
}

/** integration-service's records about `userId`, once there is at least one. */
export function platformEventsOf(stack: SystemStack, userId: string): Promise<PlatformEventRow[]> {
  return waitFor(
    async () => {
      const rows = await stack.query<PlatformEventRow>(
        'integration-service',
        `SELECT id::text, type, source, subject, occurred_at, received_at, data, request_id, traceparent
           FROM platform_events WHERE subject = $1`,
        [userId],
      );
      return rows.length > 0 && rows;
    },
    {
      timeoutMs: EVENT_TIMEOUT_MS,
      intervalMs: 100,
      description: `integration-service to record user ${userId}`,
    },
  );
}

/**
 * The first log line of `service` that matches. Lines reach us through a pipe, and some are written
 * after the answer (the gateway's access log on 'finish'), so this waits a little for them.
 */
export function logLine(
  stack: SystemStack,
  service: ServiceName,
  fields: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return waitFor(
    () =>
      stack
        .logLines(service)
        .find((line) => Object.entries(fields).every(([key, value]) => line[key] === value)),
    { description: `a log line of ${service} with ${JSON.stringify(fields)}` },
  );
}

/** The gateway's access-log line of one request. */
export function gatewayAccessLog(stack: SystemStack, requestId: string): Promise<Record<string, unknown>> {
  return logLine(stack, 'api-gateway', { message: 'request', request_id: requestId });
}
