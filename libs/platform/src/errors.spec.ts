import {
  AppError,
  codeForGrpcStatus,
  ERROR_CODES,
  grpcStatusFor,
  httpStatusFor,
  isErrorCode,
} from './errors.js';

describe('AppError', () => {
  it('When a code is mapped, then HTTP and gRPC statuses follow the table', () => {
    expect(httpStatusFor('VALIDATION_FAILED')).toBe(400);
    expect(httpStatusFor('UNAUTHENTICATED')).toBe(401);
    expect(httpStatusFor('CONFLICT')).toBe(409);
    expect(httpStatusFor('RATE_LIMITED')).toBe(429);
    expect(httpStatusFor('UNAVAILABLE')).toBe(503);
    expect(grpcStatusFor('CONFLICT')).toBe(6);
    expect(grpcStatusFor('NOT_FOUND')).toBe(5);
    expect(grpcStatusFor('UNAUTHENTICATED')).toBe(16);
  });

  it('When every code goes to gRPC and back, then it lands on a code with the same HTTP class', () => {
    // METHOD_NOT_ALLOWED is HTTP-only: an UNIMPLEMENTED answer from a peer is our bug, hence INTERNAL.
    for (const code of ERROR_CODES.filter((c) => c !== 'METHOD_NOT_ALLOWED')) {
      const back = codeForGrpcStatus(grpcStatusFor(code));
      expect(Math.floor(httpStatusFor(back) / 100)).toBe(Math.floor(httpStatusFor(code) / 100));
    }
  });

  it('When an unknown gRPC status arrives, then it maps to INTERNAL', () => {
    expect(codeForGrpcStatus(2)).toBe('INTERNAL');
  });

  it('When a plain Error is wrapped, then it becomes INTERNAL with a generic message and keeps the cause', () => {
    const cause = new Error('connection string postgres://x leaked');
    const error = AppError.from(cause);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('Internal server error');
    expect(error.cause).toBe(cause);
    expect(error.isInternal).toBe(true);
  });

  it('When an AppError is wrapped, then it is returned unchanged with its fields', () => {
    const original = new AppError('VALIDATION_FAILED', 'bad', {
      fields: [{ field: 'email', message: 'invalid' }],
    });
    expect(AppError.from(original)).toBe(original);
    expect(original.fields).toEqual([{ field: 'email', message: 'invalid' }]);
    expect(original.httpStatus).toBe(400);
  });

  it('When a string is checked, then only known codes are error codes', () => {
    expect(isErrorCode('NOT_FOUND')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});
