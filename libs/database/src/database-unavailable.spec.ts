import { AppError } from '@te/platform';
import { classifyDatabaseError, isDatabaseUnavailable, isUnstorableText } from './prisma-errors.js';

// Shapes as Prisma 7 with the pg driver adapter reports them (PrismaClientKnownRequestError: code, message).
const unreachable = Object.assign(new Error("Can't reach database server at `127.0.0.1:5599`"), {
  code: 'P1001',
});
const refusedThroughAdapter = new Error('DriverAdapterError', {
  cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5599'), { code: 'ECONNREFUSED' }),
});
const adminShutdown = Object.assign(new Error('terminating connection due to administrator command'), {
  code: '57P01',
});
const poolTimeout = Object.assign(new Error('Timed out fetching a new connection from the connection pool'), {
  code: 'P2024',
});

describe('classifyDatabaseError', () => {
  it.each([
    ['P1001 (server unreachable)', unreachable],
    ['a refused connection under the adapter', refusedThroughAdapter],
    ['the server shutting down (57P01)', adminShutdown],
    ['a pool timeout (P2024)', poolTimeout],
  ])('When the error is %s, then it is UNAVAILABLE (retryable, 503 at the gateway)', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    const mapped = classifyDatabaseError(error);
    expect(mapped?.code).toBe('UNAVAILABLE');
    expect(mapped?.message).not.toContain('127.0.0.1'); // no internal address on the wire
  });

  it.each([
    ['a unique violation (P2002)', Object.assign(new Error('Unique constraint failed'), { code: 'P2002' })],
    ['a programming error', new TypeError('cannot read properties of undefined')],
    ['an AppError already chosen', new AppError('NOT_FOUND', 'No such user')],
    ['nothing', undefined],
  ])('When the error is %s, then it is left alone', (_name, error) => {
    expect(classifyDatabaseError(error)).toBeUndefined();
  });
});

describe('classifyDatabaseError for text PostgreSQL cannot store', () => {
  it('When a query carried a NUL character (22021 under the driver adapter, as Prisma 7 reports it), then VALIDATION_FAILED', () => {
    const nul = Object.assign(new Error('Invalid `db.user.findFirst()` invocation'), {
      code: 'P2039',
      meta: {
        driverAdapterError: {
          name: 'DriverAdapterError',
          cause: {
            kind: 'postgres',
            code: '22021',
            message: 'invalid byte sequence for encoding "UTF8": 0x00',
          },
        },
      },
    });
    expect(isUnstorableText(nul)).toBe(true);
    expect(classifyDatabaseError(nul)?.code).toBe('VALIDATION_FAILED');
    expect(classifyDatabaseError(nul)?.message).not.toContain('findFirst');
  });
});
