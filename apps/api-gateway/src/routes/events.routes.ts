import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError, SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { IntegrationServiceClient } from '../clients/integration-service.client.js';
import {
  openEventStream,
  writeComment,
  writeEvent,
  writeIdentifiedEvent,
  writeRetry,
} from '../http/server-sent-events.js';
import { validateQuery, validatedQuery } from '../http/validate-query.js';
import { operation } from '../openapi/operation.js';
import { eventStream } from '../openapi/schemas.js';

export interface EventStreamLimits {
  /** An SSE comment this often, so proxies keep an idle stream open. */
  heartbeatMs: number;
  /** A stream ends after this long; the client reconnects with Last-Event-ID (and fresh credentials). */
  maxStreamMs: number;
  /** The `retry:` hint: how long a client waits before reconnecting. */
  retryMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  heartbeatMs: 15_000,
  maxStreamMs: 30 * 60_000,
  retryMs: 3_000,
};

/** A position in the caller's event log, as integration-service numbers it (`<ms>-<seq>`). */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

const eventsQuery = z
  .object({
    last_event_id: z
      .string()
      .max(64)
      .regex(STREAM_ID, 'must be an event id such as 1767323045678-0')
      .optional(),
    // Comma-separated; integration-service knows which types are user-visible (400 for others).
    types: z
      .string()
      .max(2000)
      .transform((value) => value.split(',').filter((type) => type !== ''))
      .refine((types) => types.length <= 20, 'at most 20 types')
      .refine((types) => types.every((type) => type.length <= 100 && EVENT_TYPE.test(type)), {
        message: 'must be comma-separated event types such as context.message.created',
      })
      .optional(),
  })
  .strict();

/**
 * GET /api/v1/events: the caller's own platform events as Server-Sent Events
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html), relayed from integration-service's
 * EventStream (decision 0021-event-stream). Each event is `id:` (its position in the caller's log),
 * `event:` (its type) and `data:` `{ id, type, occurred_at, data }`. A client resumes with the
 * `Last-Event-ID` header (EventSource sends it by itself) or `?last_event_id=`; when events after it
 * were dropped from the log (older than the retention), a `gap` event comes first. Refusals (401, 403,
 * 400 bad id or type, 429, 503) are envelope responses: nothing is sent until integration-service has
 * opened the stream. A comment every EVENTS_HEARTBEAT_MS keeps proxies from closing an idle stream;
 * after EVENTS_STREAM_MAX_MS the response ends and the client reconnects (its credentials are checked
 * again). A client that goes away cancels the gRPC stream at once.
 */
export function eventRoutes(
  integrations: IntegrationServiceClient,
  requireAuth: RequireAuth,
  limits: EventStreamLimits = DEFAULT_EVENT_STREAM_LIMITS,
): Router {
  const router = Router();

  router.get(
    '/',
    operation({
      tag: 'events',
      summary: 'Stream your platform events (Server-Sent Events)',
      description:
        'Each event: `id:` (its position in your log), `event:` (its type), `data:` `{ id, type, occurred_at, data }`. ' +
        'First a `retry:` hint; `: heartbeat` comments keep the stream open. Resume with `Last-Event-ID` ' +
        '(wins) or `last_event_id` (`0-0` replays everything retained); `event: gap` first when events after ' +
        'it were dropped. A failure after the stream opened is `event: error` (`{ code, message }`) and the end. ' +
        'Refusals before it opens are envelope answers.',
      query: eventsQuery,
      headers: {
        'Last-Event-ID': {
          description: 'Resume after this event id (`<ms>-<seq>`); EventSource sends it itself',
        },
      },
      responses: { 200: { description: 'The event stream', content: { 'text/event-stream': eventStream } } },
    }),
    requireAuth(SCOPES.eventsRead),
    validateQuery(eventsQuery),
    async (req, res) => {
      const query = validatedQuery(res, eventsQuery);
      await relay(res, integrations, limits, {
        lastEventId: lastEventId(req) ?? query.last_event_id ?? '',
        types: query.types ?? [],
      });
    },
  );

  return router;
}

/** The Last-Event-ID header (a reconnecting EventSource's position) wins over the query parameter. */
function lastEventId(req: Request): string | undefined {
  const header = req.get('last-event-id');
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (value.length > 64 || !STREAM_ID.test(value)) {
    throw new AppError('VALIDATION_FAILED', 'Last-Event-ID is invalid', {
      fields: [{ field: 'Last-Event-ID', message: 'must be an event id such as 1767323045678-0' }],
    });
  }
  return value;
}

async function relay(
  res: Response,
  integrations: IntegrationServiceClient,
  limits: EventStreamLimits,
  request: { lastEventId: string; types: string[] },
): Promise<void> {
  const gone = new AbortController(); // the client left, or the stream reached its maximum life
  res.on('close', () => gone.abort());
  const maxLife = setTimeout(() => gone.abort(), limits.maxStreamMs);
  const messages = integrations.events
    .stream(request, { deadlineMs: limits.maxStreamMs + 30_000, signal: gone.signal })
    [Symbol.asyncIterator]();
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    // Throws to the error handler (an envelope 4xx/5xx): nothing has been sent yet.
    const first = await messages.next();
    if (first.done || !first.value.opened) throw new AppError('UNAVAILABLE', 'The event stream did not open');
    openEventStream(res);
    await writeRetry(res, limits.retryMs);
    if (first.value.opened.gap) {
      await writeEvent(
        res,
        'gap',
        JSON.stringify({
          last_event_id: request.lastEventId,
          message: 'Events after last_event_id may have been dropped; re-read the state you mirror',
        }),
      );
    }
    heartbeat = setInterval(() => writeComment(res, 'heartbeat'), limits.heartbeatMs);
    await pump(res, messages, gone.signal);
  } finally {
    clearTimeout(maxLife);
    clearInterval(heartbeat);
    if (!gone.signal.aborted) await messages.return?.(undefined);
    if (res.headersSent) res.end();
  }
}

type Messages =
  ReturnType<IntegrationServiceClient['events']['stream']> extends AsyncIterable<infer M>
    ? AsyncIterator<M>
    : never;

/** Relays events until the stream ends; a failure after the headers is an `error` event, then the end. */
async function pump(res: Response, messages: Messages, gone: AbortSignal): Promise<void> {
  try {
    for (let next = await messages.next(); !next.done && !gone.aborted; next = await messages.next()) {
      const event = next.value.event;
      if (!event) continue;
      const body = {
        id: event.id,
        type: event.type,
        occurred_at: event.occurredAt,
        data: JSON.parse(event.dataJson) as unknown,
      };
      // JSON.stringify escapes line breaks: one `data:` line. Ids and types are plain tokens.
      await writeIdentifiedEvent(res, event.streamId, event.type, JSON.stringify(body));
    }
  } catch (error) {
    if (gone.aborted) return;
    const appError = AppError.from(error);
    await writeEvent(
      res,
      'error',
      JSON.stringify({
        code: appError.code,
        message: appError.message,
        ...(appError.fields && { fields: appError.fields }),
      }),
    );
  }
}
