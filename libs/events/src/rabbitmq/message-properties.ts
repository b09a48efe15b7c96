import type { Message, Options } from 'amqplib';
import type { EventEnvelope } from '../event-envelope.js';
import { ATTEMPTS_HEADER } from './retry-policy.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * AMQP properties of a published event. The envelope is the source of truth; the headers repeat the
 * trace context and request id so broker-side tools (and consumers that never parse the body) see them.
 */
export function eventPublishOptions(event: EventEnvelope): Options.Publish & { messageId: string } {
  const headers: Record<string, string> = {};
  if (event.traceparent) headers.traceparent = event.traceparent;
  if (event.tracestate) headers.tracestate = event.tracestate;
  if (event.request_id) headers[REQUEST_ID_HEADER] = event.request_id;
  const time = Date.parse(event.time);
  return {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    messageId: event.id,
    type: event.type,
    appId: event.source,
    ...(Number.isFinite(time) && { timestamp: Math.floor(time / 1000) }),
    headers,
  };
}

/** Trace carrier for the consumer span: the envelope first, then the headers (e.g. for malformed bodies). */
export function traceCarrier(
  event: EventEnvelope,
  headers: Record<string, unknown> | undefined,
): Record<string, string> {
  const carrier: Record<string, string> = {};
  const traceparent = event.traceparent ?? headers?.traceparent;
  const tracestate = event.tracestate ?? headers?.tracestate;
  if (typeof traceparent === 'string') carrier.traceparent = traceparent;
  if (typeof tracestate === 'string') carrier.tracestate = tracestate;
  return carrier;
}

// Set by the broker when it dead-letters; a client must not forward them (RabbitMQ 4 treats x-death
// as broker-owned), and stale ones would mislead anyone reading the DLQ.
const BROKER_HEADERS = /^x-(death|first-death-|last-death-)/;

/**
 * Properties for re-publishing a received message to a retry queue or the DLQ: everything the
 * producer set is kept (message id, type, trace headers), broker annotations are dropped and ours added.
 */
export function republishOptions(
  message: Message,
  extraHeaders: Record<string, string | number>,
): Options.Publish {
  const p = message.properties;
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p.headers ?? {})) {
    if (!BROKER_HEADERS.test(key) && value !== undefined) headers[key] = value;
  }
  Object.assign(headers, extraHeaders);
  return {
    persistent: true,
    mandatory: true,
    contentType: p.contentType ?? 'application/json',
    ...(p.contentEncoding && { contentEncoding: p.contentEncoding }),
    ...(p.messageId && { messageId: p.messageId }),
    ...(p.type && { type: p.type }),
    ...(p.appId && { appId: p.appId }),
    ...(p.timestamp && { timestamp: p.timestamp }),
    ...(p.correlationId && { correlationId: p.correlationId }),
    headers,
  };
}

export function retryHeaders(attempts: number, error: unknown): Record<string, string | number> {
  return { [ATTEMPTS_HEADER]: attempts, 'x-last-error': errorText(error) };
}

export function deadLetterHeaders(
  attempts: number,
  reason: 'handler_failed' | 'malformed',
  error: unknown,
  queue: string,
): Record<string, string | number> {
  const code = (error as { code?: unknown })?.code;
  return {
    [ATTEMPTS_HEADER]: attempts,
    'x-dead-letter-reason': reason,
    'x-error': errorText(error),
    ...(typeof code === 'string' && { 'x-error-code': code }),
    'x-failed-at': new Date().toISOString(),
    'x-original-queue': queue,
  };
}

/** The error message plus validation fields, bounded: AMQP header tables must stay small. */
export function errorText(error: unknown): string {
  const e = error as { message?: unknown; fields?: { field: string; message: string }[] };
  let text = typeof e?.message === 'string' ? e.message : String(error);
  if (Array.isArray(e?.fields)) text += ': ' + e.fields.map((f) => `${f.field} ${f.message}`).join('; ');
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}
