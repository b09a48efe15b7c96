/**
 * The one error type of the platform. Domain code throws `AppError` with a stable `code`; only the
 * edges (HTTP error handler, gRPC server wrapper, gRPC client) translate codes to transport statuses.
 * Codes are part of the public API: clients branch on them, so never rename one.
 */

// Numeric gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), kept here so the
// platform does not depend on @grpc/grpc-js.
const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const CODES = {
  VALIDATION_FAILED: { http: 400, grpc: GRPC.INVALID_ARGUMENT },
  BAD_REQUEST: { http: 400, grpc: GRPC.INVALID_ARGUMENT },
  UNAUTHENTICATED: { http: 401, grpc: GRPC.UNAUTHENTICATED },
  FORBIDDEN: { http: 403, grpc: GRPC.PERMISSION_DENIED },
  NOT_FOUND: { http: 404, grpc: GRPC.NOT_FOUND },
  METHOD_NOT_ALLOWED: { http: 405, grpc: GRPC.UNIMPLEMENTED },
  CONFLICT: { http: 409, grpc: GRPC.ALREADY_EXISTS },
  PRECONDITION_FAILED: { http: 412, grpc: GRPC.FAILED_PRECONDITION },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GRPC.RESOURCE_EXHAUSTED },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: GRPC.INVALID_ARGUMENT },
  RATE_LIMITED: { http: 429, grpc: GRPC.RESOURCE_EXHAUSTED },
  INTERNAL: { http: 500, grpc: GRPC.INTERNAL },
  UNAVAILABLE: { http: 503, grpc: GRPC.UNAVAILABLE },
  DEADLINE_EXCEEDED: { http: 504, grpc: GRPC.DEADLINE_EXCEEDED },
} as const satisfies Record<string, { http: number; grpc: number }>;

export type ErrorCode = keyof typeof CODES;
export const ERROR_CODES = Object.keys(CODES) as ErrorCode[];

export interface FieldError {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  fields?: FieldError[];
  details?: Record<string, unknown>;
  cause?: unknown;
  /** For RATE_LIMITED: when the caller may try again (HTTP `Retry-After`). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields?: FieldError[];
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    if (options.fields?.length) this.fields = options.fields;
    if (options.details) this.details = options.details;
    if (options.retryAfterSeconds !== undefined)
      this.retryAfterSeconds = Math.max(1, Math.ceil(options.retryAfterSeconds));
  }

  get httpStatus(): number {
    return httpStatusFor(this.code);
  }

  get grpcStatus(): number {
    return grpcStatusFor(this.code);
  }

  /** True for server-side failures whose message must not reach a client. */
  get isInternal(): boolean {
    return this.code === 'INTERNAL';
  }

  /** Anything thrown becomes an AppError; unknown errors become INTERNAL with a generic message. */
  static from(error: unknown): AppError {
    if (error instanceof AppError) return error;
    return new AppError('INTERNAL', 'Internal server error', { cause: error });
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(CODES, value);
}

export function httpStatusFor(code: ErrorCode): number {
  return CODES[code].http;
}

export function grpcStatusFor(code: ErrorCode): number {
  return CODES[code].grpc;
}

const CODE_FOR_GRPC_STATUS: Record<number, ErrorCode> = {
  [GRPC.INVALID_ARGUMENT]: 'VALIDATION_FAILED',
  [GRPC.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [GRPC.NOT_FOUND]: 'NOT_FOUND',
  [GRPC.ALREADY_EXISTS]: 'CONFLICT',
  [GRPC.PERMISSION_DENIED]: 'FORBIDDEN',
  [GRPC.RESOURCE_EXHAUSTED]: 'RATE_LIMITED',
  [GRPC.FAILED_PRECONDITION]: 'PRECONDITION_FAILED',
  [GRPC.UNAVAILABLE]: 'UNAVAILABLE',
  [GRPC.UNAUTHENTICATED]: 'UNAUTHENTICATED',
};

/** For errors from peers that did not send our `x-te-error-code` trailer. */
export function codeForGrpcStatus(status: number): ErrorCode {
  return CODE_FOR_GRPC_STATUS[status] ?? 'INTERNAL';
}
