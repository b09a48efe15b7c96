import { Metadata, status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { AppError, codeForGrpcStatus, isErrorCode, type ErrorCode, type FieldError } from '@te/platform';
import { MetadataKeys, firstString } from './metadata.js';

const INTERNAL_MESSAGE = 'Internal server error';

// What a client may see for codes whose own message could carry internals (SQL, hosts, stack traces).
const GENERIC_MESSAGES: Partial<Record<ErrorCode, string>> = {
  INTERNAL: INTERNAL_MESSAGE,
  UNAVAILABLE: 'Service unavailable',
  DEADLINE_EXCEEDED: 'Deadline exceeded',
};

/** Server side: the status, message and trailers that describe an AppError on the wire. */
export function toGrpcStatus(error: AppError): StatusObject {
  const metadata = new Metadata();
  metadata.set(MetadataKeys.errorCode, error.code);
  if (error.fields?.length) metadata.set(MetadataKeys.errorFields, asciiJson(error.fields));
  if (error.retryAfterSeconds !== undefined)
    metadata.set(MetadataKeys.retryAfter, String(error.retryAfterSeconds));
  return {
    code: error.grpcStatus,
    // INTERNAL never carries its own message: AppError.from() already hides unknown errors, and an
    // explicit AppError('INTERNAL', ...) is a server-side failure too.
    details: error.isInternal ? INTERNAL_MESSAGE : error.message,
    metadata,
  };
}

// Statuses about the call's fate rather than the server's answer. CANCELLED reaches a client when
// the server is forced down mid-call (or the caller aborted): the peer was unavailable, not broken.
const TRANSPORT_CODES = new Set<number>([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED]);

/**
 * Client side: a failed call as the AppError the server threw. The `x-te-error-code` trailer is
 * authoritative when present (one gRPC status covers several codes: INVALID_ARGUMENT is both
 * VALIDATION_FAILED and BAD_REQUEST); otherwise the status decides. Transport failures
 * (UNAVAILABLE, DEADLINE_EXCEEDED; CANCELLED becomes UNAVAILABLE) stay what they are, whatever a
 * trailer says, so callers can retry or fail fast on them.
 */
export function fromGrpcError(error: ServiceError, call: { service: string; method: string }): AppError {
  const trailerCode = error.metadata ? firstString(error.metadata, MetadataKeys.errorCode) : undefined;
  const transport = TRANSPORT_CODES.has(error.code);
  const fromTrailer = !transport && isErrorCode(trailerCode);
  const tooLarge = !fromTrailer && isMessageSizeRejection(error);
  const code: ErrorCode = fromTrailer
    ? (trailerCode as ErrorCode)
    : error.code === Status.CANCELLED
      ? 'UNAVAILABLE'
      : tooLarge
        ? 'PAYLOAD_TOO_LARGE'
        : codeForGrpcStatus(error.code);
  const fields = fromTrailer && error.metadata ? readFields(error.metadata) : undefined;
  const retryAfter =
    fromTrailer && error.metadata ? Number(firstString(error.metadata, MetadataKeys.retryAfter)) : NaN;
  // Only our own servers (they sent the trailer) produce messages meant for the caller.
  const message = tooLarge
    ? MESSAGE_TOO_LARGE
    : fromTrailer && !GENERIC_MESSAGES[code]
      ? error.details
      : (GENERIC_MESSAGES[code] ?? 'Remote call failed');
  return new AppError(code, message, {
    fields,
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    details: {
      grpcService: call.service,
      grpcMethod: call.method,
      grpcStatus: Status[error.code] ?? error.code,
    },
    cause: error,
  });
}

const MESSAGE_TOO_LARGE = 'Message larger than the gRPC message size limit';

/**
 * RESOURCE_EXHAUSTED without our trailer is usually grpc-js refusing a message over
 * `grpc.max_receive_message_length` / `grpc.max_send_message_length` (on either side): that is
 * PAYLOAD_TOO_LARGE, not RATE_LIMITED, and retrying would not help. grpc-js says
 * "Received message larger than max (…)", "Sent message larger than max (…)" or
 * "Received message that decompresses to a size larger than …".
 */
function isMessageSizeRejection(error: ServiceError): boolean {
  return error.code === Status.RESOURCE_EXHAUSTED && /message .*larger than/i.test(error.details ?? '');
}

function readFields(metadata: Metadata): FieldError[] | undefined {
  const raw = firstString(metadata, MetadataKeys.errorFields);
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return undefined;
    const fields = parsed.filter(
      (item): item is FieldError =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as FieldError).field === 'string' &&
        typeof (item as FieldError).message === 'string',
    );
    return fields.map(({ field, message }) => ({ field, message }));
  } catch {
    return undefined;
  }
}

/** The gRPC status name used as the `code` metric label and span attribute ('OK', 'NOT_FOUND', ...). */
export function grpcStatusName(code: number): string {
  return Status[code] ?? String(code);
}

// Non-binary metadata values must be printable ASCII; escape the rest so field messages in any
// language survive (JSON.parse restores them).
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
