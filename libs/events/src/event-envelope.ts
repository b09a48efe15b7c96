import { v7 as uuidv7 } from 'uuid';
import { AppError, getRequestContext, injectTraceContext, type FieldError } from '@te/platform';

/**
 * The message body of every event: CloudEvents 1.0 attribute names (https://cloudevents.io) so the
 * envelope reads the same to any tool, plus the W3C trace context and our request id, which travel in
 * the body (not only in AMQP headers) so they survive the outbox and any re-publication.
 */
export interface EventEnvelope<T = unknown> {
  specversion: '1.0';
  /** uuid v7: time-ordered, so outbox rows and logs sort by creation. */
  id: string;
  /** Dot-separated, also the routing key: 'user.registered'. */
  type: string;
  /** The producing service: 'user-service'. */
  source: string;
  /** ISO 8601 creation time. */
  time: string;
  /** The entity the event is about (e.g. the user id), for logs and partitioning. */
  subject?: string;
  data: T;
  traceparent?: string;
  tracestate?: string;
  request_id?: string;
}

export interface CreateEventInput<T> {
  type: string;
  source: string;
  subject?: string;
  data: T;
}

// Routing keys are at most 255 bytes; `*` and `#` are topic wildcards and must never appear in a type.
const TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function isValidEventType(type: unknown): type is string {
  return typeof type === 'string' && type.length <= 255 && TYPE_PATTERN.test(type);
}

/** Builds an envelope, capturing the caller's trace context and request id so consumers continue the trace. */
export function createEvent<T>(input: CreateEventInput<T>): EventEnvelope<T> {
  if (!isValidEventType(input.type)) {
    throw new AppError('VALIDATION_FAILED', `Invalid event type "${input.type}"`, {
      fields: [{ field: 'type', message: 'dot-separated words of letters, digits, _ or -' }],
    });
  }
  const carrier: Record<string, string> = {};
  injectTraceContext(carrier);
  const requestId = getRequestContext()?.requestId;
  return {
    specversion: '1.0',
    id: uuidv7(),
    type: input.type,
    source: input.source,
    time: new Date().toISOString(),
    ...(input.subject !== undefined && { subject: input.subject }),
    data: input.data,
    ...(carrier.traceparent && { traceparent: carrier.traceparent }),
    ...(carrier.tracestate && { tracestate: carrier.tracestate }),
    ...(requestId && { request_id: requestId }),
  };
}

/**
 * Validates an incoming message body. Anything that fails here can never succeed on a retry, so the
 * consumer sends it straight to the dead-letter queue (AppError VALIDATION_FAILED with the fields).
 */
export function parseEnvelope(body: Buffer | string | unknown): EventEnvelope {
  let value: unknown = body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    try {
      value = JSON.parse(body.toString());
    } catch {
      throw malformed([{ field: '(body)', message: 'not valid JSON' }]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed([{ field: '(body)', message: 'not a JSON object' }]);
  }
  const fields = envelopeProblems(value as Record<string, unknown>);
  if (fields.length > 0) throw malformed(fields);
  return value as EventEnvelope;
}

function envelopeProblems(v: Record<string, unknown>): FieldError[] {
  const problems: FieldError[] = [];
  const check = (ok: boolean, field: string, message: string) => {
    if (!ok) problems.push({ field, message });
  };
  check(v.specversion === '1.0', 'specversion', "must be '1.0'");
  check(typeof v.id === 'string' && UUID_PATTERN.test(v.id), 'id', 'must be a UUID');
  check(isValidEventType(v.type), 'type', 'must be dot-separated words');
  check(typeof v.source === 'string' && v.source.length > 0, 'source', 'must be a non-empty string');
  check(
    typeof v.time === 'string' && ISO_TIME_PATTERN.test(v.time) && !Number.isNaN(Date.parse(v.time)),
    'time',
    'must be an ISO 8601 timestamp',
  );
  check(v.data !== undefined, 'data', 'is required');
  for (const key of ['subject', 'traceparent', 'tracestate', 'request_id'] as const) {
    check(v[key] === undefined || typeof v[key] === 'string', key, 'must be a string when present');
  }
  return problems;
}

function malformed(fields: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', 'Malformed event envelope', { fields });
}
