import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, type ErrorCode, type Logger } from '@te/platform';
import { fromClientError } from './error-handler.middleware.js';

/**
 * Errors of the OpenAI-compatible API (/v1, decision 0017) in OpenAI's shape,
 * `{ error: { message, type, param, code } }`, which the official SDKs parse into their error classes
 * (BadRequestError for 400, AuthenticationError for 401, …). This is the one exception to the envelope:
 * the rest of the gateway answers in envelope.ts's shape.
 */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An AppError that says which request member is wrong (`param`) and OpenAI's `code` for it. */
export class OpenAiApiError extends AppError {
  readonly param: string | null;
  readonly openAiCode: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    options: { param?: string | null; openAiCode?: string | null; retryAfterSeconds?: number } = {},
  ) {
    super(
      code,
      message,
      options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds },
    );
    this.param = options.param ?? null;
    this.openAiCode = options.openAiCode ?? null;
  }
}

/** A 400 naming the member at fault (`messages[1].content[0].image_url.url`). */
export function invalidParam(param: string, reason: string, openAiCode: string | null = 'invalid_value') {
  return new OpenAiApiError('VALIDATION_FAILED', `Invalid '${param}': ${reason}`, { param, openAiCode });
}

/** A 400 for a feature this server does not offer (tools, n > 1, stop sequences, …). */
export function unsupportedParam(param: string, reason: string) {
  return new OpenAiApiError('VALIDATION_FAILED', `Unsupported parameter '${param}': ${reason}`, {
    param,
    openAiCode: 'unsupported_parameter',
  });
}

interface Mapping {
  status: number;
  type: string;
  code: string | null;
}

// Our codes → OpenAI's statuses and types. PRECONDITION_FAILED (e.g. an image for a text-only model)
// is a 400: OpenAI has no 412 and its SDKs would raise a bare APIError for one.
const MAPPINGS: Record<ErrorCode, Mapping> = {
  VALIDATION_FAILED: { status: 400, type: 'invalid_request_error', code: null },
  BAD_REQUEST: { status: 400, type: 'invalid_request_error', code: null },
  PRECONDITION_FAILED: { status: 400, type: 'invalid_request_error', code: 'unsupported_value' },
  UNAUTHENTICATED: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  FORBIDDEN: { status: 403, type: 'permission_error', code: 'insufficient_scope' },
  NOT_FOUND: { status: 404, type: 'invalid_request_error', code: null },
  METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error', code: null },
  CONFLICT: { status: 409, type: 'invalid_request_error', code: 'conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, type: 'invalid_request_error', code: 'request_too_large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error', code: null },
  RATE_LIMITED: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  INTERNAL: { status: 500, type: 'server_error', code: null },
  UNAVAILABLE: { status: 503, type: 'server_error', code: 'service_unavailable' },
  DEADLINE_EXCEEDED: { status: 504, type: 'server_error', code: 'timeout' },
};

/** The HTTP status and body for an error; an INTERNAL one never shows its message. */
export function toOpenAiError(error: AppError): { status: number; body: OpenAiErrorBody } {
  const mapping = MAPPINGS[error.code];
  const own = error instanceof OpenAiApiError ? error : undefined;
  const message = error.isInternal
    ? 'The server had an error while processing your request.'
    : describe(error);
  return {
    status: mapping.status,
    body: {
      error: {
        message,
        type: mapping.type,
        param: own ? own.param : null,
        code: own?.openAiCode ?? mapping.code,
      },
    },
  };
}

// Field problems from a service are part of the message: OpenAI's shape has no list of fields.
function describe(error: AppError): string {
  if (error instanceof OpenAiApiError || !error.fields?.length) return error.message;
  return `${error.message}: ${error.fields.map((f) => `'${f.field}' ${f.message}`).join('; ')}`;
}

/** Sends an error in OpenAI's shape (with `WWW-Authenticate` on 401 and `Retry-After` when known). */
export function sendOpenAiError(res: Response, error: AppError): void {
  const { status, body } = toOpenAiError(error);
  if (status === 401 && !res.getHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', 'Bearer');
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  res.status(status).json(body);
}

/** An unmatched path under /v1, worded as OpenAI words it. */
export function openAiNotFound(): RequestHandler {
  return (req, res) =>
    sendOpenAiError(
      res,
      new OpenAiApiError('NOT_FOUND', `Invalid URL (${req.method} ${req.originalUrl.split('?')[0]})`, {
        openAiCode: 'unknown_url',
      }),
    );
}

/** The /v1 router's error handler: like errorHandler (error-handler.middleware.ts), in OpenAI's shape. */
export function openAiErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const appError = fromBodyParser(error) ?? fromClientError(error) ?? AppError.from(error);
    logFailure(logger, error, appError);
    sendOpenAiError(res, appError);
  };
}

/** Logs a failure the way the envelope's error handler does: internal errors in full, outages in one line. */
export function logFailure(logger: Logger, error: unknown, appError: AppError): void {
  if (appError.isInternal) logger.error('request failed', { err: error, code: appError.code });
  else if (appError.httpStatus >= 500)
    logger.warn('request failed: dependency unavailable', { code: appError.code, reason: appError.message });
}

// body-parser (express.json) marks its errors with `type` and a 4xx `status`.
function fromBodyParser(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch ((error as { type: unknown }).type) {
    case 'entity.parse.failed':
      return new OpenAiApiError(
        'BAD_REQUEST',
        'We could not parse the JSON body of your request: it is not valid JSON.',
        { openAiCode: 'invalid_json' },
      );
    case 'entity.too.large':
      return new OpenAiApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.', {
        openAiCode: 'request_too_large',
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new OpenAiApiError('UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported.');
    case 'request.aborted':
      return new OpenAiApiError('BAD_REQUEST', 'The request was aborted.');
    case 'encoding.invalid': // json-body.ts
      return new OpenAiApiError('BAD_REQUEST', 'The request body is not valid UTF-8.', {
        openAiCode: 'invalid_json',
      });
    default:
      return undefined;
  }
}
