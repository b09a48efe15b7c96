import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type Logger } from '@te/platform';
import { sendError } from './envelope.js';

/** Any route not matched: a 404 in the envelope like every other answer. */
export function notFound(): RequestHandler {
  return (req, res) => sendError(res, new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
}

/**
 * The one place errors become HTTP responses. AppErrors keep their code; body-parser failures become
 * 4xx; anything else is a 500 whose details stay in the log, never in the response.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const appError = fromBodyParser(error) ?? AppError.from(error);
    if (appError.isInternal) {
      logger.error('request failed', { err: error, code: appError.code });
    } else if (appError.httpStatus >= 500) {
      // A peer down or slow: expected during outages, one short line each (no stack traces).
      logger.warn('request failed: dependency unavailable', {
        code: appError.code,
        reason: appError.message,
      });
    }
    if (appError.code === 'UNAUTHENTICATED') res.setHeader('WWW-Authenticate', 'Bearer');
    if (appError.retryAfterSeconds !== undefined)
      res.setHeader('Retry-After', String(appError.retryAfterSeconds));
    sendError(res, appError);
  };
}

// body-parser (express.json) marks its errors with `type` and a 4xx `status`.
function fromBodyParser(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch ((error as { type: unknown }).type) {
    case 'entity.parse.failed':
      return new AppError('BAD_REQUEST', 'Request body is not valid JSON');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body encoding is not supported');
    case 'request.aborted':
      return new AppError('BAD_REQUEST', 'Request was aborted');
    default:
      return undefined;
  }
}
