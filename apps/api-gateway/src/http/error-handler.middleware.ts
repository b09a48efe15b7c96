import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorCode, type Logger } from '@te/platform';
import { sendError } from './envelope.js';

/**
 * Any request no route matched, in the envelope like every other answer: 405 METHOD_NOT_ALLOWED with
 * `Allow` when `routes` serve the path with other methods (RFC 9110 §15.5.6), 404 NOT_FOUND otherwise.
 */
export function notFound(
  routes: () => readonly { method: string; path: string }[] = () => [],
): RequestHandler {
  let table: { method: string; pattern: RegExp }[] | undefined;
  return (req, res) => {
    // Built on the first miss, when every route has been registered.
    table ??= routes().map((route) => ({ method: route.method, pattern: pathPattern(route.path) }));
    const allowed = new Set(
      table.filter((entry) => entry.pattern.test(req.path)).map((entry) => entry.method),
    );
    if (allowed.has('GET')) allowed.add('HEAD'); // Express answers HEAD with the GET route
    // No route for the path, or one for this very method that passed it on (a file it does not serve).
    if (allowed.size === 0 || allowed.has(req.method)) {
      sendError(res, new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
      return;
    }
    const methods = [...allowed].sort();
    res.setHeader('Allow', methods.join(', '));
    sendError(
      res,
      new AppError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`, {
        details: { allowed_methods: methods },
      }),
    );
  };
}

/** An Express route path (`/api/v1/sessions/:id`, `/docs/*file`) as a regular expression, case-insensitive as Express matches. */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) return '[^/]+';
      if (segment.startsWith('*')) return '.*';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`, 'i');
}

/**
 * The one place errors become HTTP responses. AppErrors keep their code; body-parser failures become
 * 4xx; anything else is a 500 whose details stay in the log, never in the response.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const appError = fromBodyParser(error) ?? fromClientError(error) ?? AppError.from(error);
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
    case 'encoding.invalid': // json-body.ts
      return new AppError('BAD_REQUEST', 'Request body is not valid UTF-8');
    default:
      return undefined;
  }
}

/**
 * Other errors Express's stack marks as the client's (a 4xx `status`), e.g. the router's 400 for a path
 * parameter that is not valid percent-encoded UTF-8 (`%FF`, `%E0%A4%A`). Their messages may quote the
 * input, so the answer says what is wrong in its own words.
 */
export function fromClientError(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || error instanceof AppError) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code > 499) return undefined;
  if (error instanceof URIError)
    return new AppError('BAD_REQUEST', 'The request path is not valid percent-encoded UTF-8');
  const byStatus: Record<number, ErrorCode> = {
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
  };
  return new AppError(byStatus[code] ?? 'BAD_REQUEST', 'The request is malformed');
}
