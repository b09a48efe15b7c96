import { AppError, captureLogger } from '@te/platform';
import { fakeRequest, fakeResponse, recordingNext } from '../../test/support/fake-http.js';
import type { Envelope } from './envelope.js';
import { errorHandler, notFound } from './error-handler.middleware.js';

// The shape body-parser (express.json) gives its errors: an http-errors object with `type` and `status`.
function bodyParserError(type: string, status: number, message = 'body-parser says no'): Error {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: status < 500 });
}

function handle(error: unknown, options: { headersSent?: boolean } = {}) {
  const logs = captureLogger('api-gateway');
  const response = fakeResponse({ requestId: 'req-1' }, options.headersSent);
  const next = recordingNext();
  errorHandler(logs.logger)(error, fakeRequest(), response.res, next);
  return { ...response, body: response.body as Envelope<never> | undefined, logs, next };
}

describe('error handler', () => {
  test.each([
    ['entity.parse.failed', 400, 400, 'BAD_REQUEST'],
    ['entity.too.large', 413, 413, 'PAYLOAD_TOO_LARGE'],
    ['encoding.unsupported', 415, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['charset.unsupported', 415, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['request.aborted', 400, 400, 'BAD_REQUEST'],
  ])(
    'When body-parser fails with %s, then the answer is %i → %i %s in the envelope',
    (type, parserStatus, status, code) => {
      const { statusCode, body, logs } = handle(
        bodyParserError(type, parserStatus, 'Unexpected token } in JSON at 12'),
      );

      expect(statusCode).toBe(status);
      expect(body).toMatchObject({
        success: false,
        data: null,
        error: { code },
        metadata: { request_id: 'req-1' },
      });
      expect(body?.error?.message).not.toContain('Unexpected token'); // parser internals stay inside
      expect(logs.lines().filter((line) => line.level === 'error')).toEqual([]);
    },
  );

  test('When body-parser fails in a way not mapped (its own 500), then it is an INTERNAL 500 and logged', () => {
    const { statusCode, body, logs } = handle(bodyParserError('stream.encoding.set', 500));

    expect(statusCode).toBe(500);
    expect(body?.error).toEqual({ code: 'INTERNAL', message: 'Internal server error' });
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'request failed' }),
    );
  });

  test('When an unexpected error is thrown, then the client sees a generic 500 and the log keeps the cause', () => {
    const { statusCode, body, logs } = handle(new Error('connect ECONNREFUSED db.internal:5432'));

    expect(statusCode).toBe(500);
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    expect(body?.error).toEqual({ code: 'INTERNAL', message: 'Internal server error' });
    expect(logs.text()).toContain('ECONNREFUSED db.internal:5432');
  });

  test('When an AppError with fields is thrown, then code, message and fields reach the client unchanged', () => {
    const fields = [{ field: 'email', message: 'is already registered' }];

    const { statusCode, body, logs } = handle(new AppError('CONFLICT', 'Email taken', { fields }));

    expect(statusCode).toBe(409);
    expect(body?.error).toEqual({ code: 'CONFLICT', message: 'Email taken', fields });
    expect(logs.text()).toBe('');
  });

  test('When the error is RATE_LIMITED, then the answer is 429 with Retry-After', () => {
    const { statusCode, headers, body } = handle(
      new AppError('RATE_LIMITED', 'Too many attempts', { retryAfterSeconds: 30 }),
    );

    expect(statusCode).toBe(429);
    expect(headers['retry-after']).toBe('30');
    expect(body?.error?.code).toBe('RATE_LIMITED');
  });

  test('When the error is UNAUTHENTICATED, then the answer carries WWW-Authenticate: Bearer', () => {
    const { statusCode, headers } = handle(
      new AppError('UNAUTHENTICATED', 'A valid access token is required'),
    );

    expect(statusCode).toBe(401);
    expect(headers['www-authenticate']).toBe('Bearer');
  });

  test('When a dependency is unavailable, then it is a 503 and one short warning without a stack', () => {
    const { statusCode, body, logs } = handle(
      new AppError('UNAVAILABLE', 'Service unavailable', { cause: new Error('connect ECONNREFUSED') }),
    );

    expect(statusCode).toBe(503);
    expect(body?.error?.code).toBe('UNAVAILABLE');
    expect(logs.lines()).toEqual([
      expect.objectContaining({ level: 'warn', code: 'UNAVAILABLE', reason: 'Service unavailable' }),
    ]);
    expect(logs.text()).not.toContain('stack');
  });

  test('When the response has already started, then the error goes to Express and nothing is written', () => {
    const error = new Error('late failure');

    const { statusCode, body, next } = handle(error, { headersSent: true });

    expect(next.calls).toEqual([[error]]);
    expect(statusCode).toBeUndefined();
    expect(body).toBeUndefined();
  });

  test('When no route matches, then the 404 names method and path in the envelope', () => {
    const response = fakeResponse({ requestId: 'req-2' });

    notFound()(fakeRequest({}, { method: 'DELETE', path: '/api/v1/nope' }), response.res, recordingNext());

    expect(response.statusCode).toBe(404);
    expect(response.body).toMatchObject({
      success: false,
      error: { code: 'NOT_FOUND', message: 'No route for DELETE /api/v1/nope' },
      metadata: { request_id: 'req-2' },
    });
  });
});
