import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { AppError } from '@te/platform';
import { fromGrpcError, toGrpcStatus } from './error-mapping.js';

const call = { service: 'te.user.v1.UserService', method: 'Register' };

function serviceError(code: number, details: string, trailers: Record<string, string> = {}): ServiceError {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe('error mapping', () => {
  it('When an AppError is sent, then status, message, code trailer and ASCII-safe fields describe it', () => {
    const fields = [{ field: 'name', message: 'trop court — 短い' }];
    const status = toGrpcStatus(new AppError('VALIDATION_FAILED', 'Invalid input', { fields }));

    expect(status.code).toBe(Status.INVALID_ARGUMENT);
    expect(status.details).toBe('Invalid input');
    expect(status.metadata.get('x-te-error-code')).toEqual(['VALIDATION_FAILED']);
    const raw = String(status.metadata.get('x-te-error-fields')[0]);
    expect(raw).toMatch(/^[ -~]*$/);
    expect(JSON.parse(raw)).toEqual(fields);
  });

  it('When an INTERNAL AppError is sent, then its own message stays on the server', () => {
    const status = toGrpcStatus(new AppError('INTERNAL', 'pool exhausted at db-1:5432'));

    expect(status).toMatchObject({ code: Status.INTERNAL, details: 'Internal server error' });
  });

  it('When the trailer names a code, then it wins over the status and fields are restored', () => {
    const error = fromGrpcError(
      serviceError(Status.INVALID_ARGUMENT, 'Bad id', {
        'x-te-error-code': 'BAD_REQUEST',
        'x-te-error-fields': JSON.stringify([{ field: 'id', message: 'not a uuid' }, { nope: 1 }]),
      }),
      call,
    );

    expect(error).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'Bad id',
      fields: [{ field: 'id', message: 'not a uuid' }],
    });
    expect(error.details).toMatchObject({
      grpcService: call.service,
      grpcMethod: 'Register',
      grpcStatus: 'INVALID_ARGUMENT',
    });
  });

  it('When a foreign peer sends no trailer, then the status decides and its message is not trusted', () => {
    const error = fromGrpcError(serviceError(Status.ALREADY_EXISTS, 'row exists in table users'), call);
    const unknown = fromGrpcError(
      serviceError(Status.ALREADY_EXISTS, 'x', { 'x-te-error-code': 'NOT_A_CODE' }),
      call,
    );

    expect(error).toMatchObject({ code: 'CONFLICT', message: 'Remote call failed' });
    expect(unknown.code).toBe('CONFLICT');
  });

  it('When the call fails in transport, then UNAVAILABLE and DEADLINE_EXCEEDED stay, CANCELLED is UNAVAILABLE', () => {
    const trailer = { 'x-te-error-code': 'CONFLICT' };

    expect(
      fromGrpcError(serviceError(Status.UNAVAILABLE, 'connect ECONNREFUSED 10.0.0.1', trailer), call),
    ).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'Service unavailable',
    });
    expect(
      fromGrpcError(serviceError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded after 5.001s'), call).code,
    ).toBe('DEADLINE_EXCEEDED');
    expect(fromGrpcError(serviceError(Status.CANCELLED, 'Call cancelled'), call).code).toBe('UNAVAILABLE');
    expect(fromGrpcError(serviceError(Status.UNKNOWN, 'boom'), call)).toMatchObject({
      code: 'INTERNAL',
      message: 'Internal server error',
    });
  });

  it('When grpc-js refuses a message over the size limit, then PAYLOAD_TOO_LARGE, while other RESOURCE_EXHAUSTED stays RATE_LIMITED', () => {
    for (const details of [
      'Received message larger than max (5242885 vs 4194304)',
      'Sent message larger than max (5242885 vs. 1024)',
      'Received message that decompresses to a size larger than 4194304',
    ]) {
      expect(fromGrpcError(serviceError(Status.RESOURCE_EXHAUSTED, details), call)).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'Message larger than the gRPC message size limit',
      });
    }
    expect(fromGrpcError(serviceError(Status.RESOURCE_EXHAUSTED, 'quota exceeded'), call).code).toBe(
      'RATE_LIMITED',
    );
    expect(
      fromGrpcError(
        serviceError(Status.RESOURCE_EXHAUSTED, 'Too many', { 'x-te-error-code': 'RATE_LIMITED' }),
        call,
      ).code,
    ).toBe('RATE_LIMITED');
  });
});
