import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '@te/platform';
import { callUnary } from '../src/index.js';
import { startUserService, type Harness } from './support.js';

describe('Errors across the wire', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness?.close();
  });

  it('When the email is taken, then the caller gets the same CONFLICT AppError back', async () => {
    harness = await startUserService();
    const request = { email: 'ada@example.com', password: 'correct horse', name: 'Ada' };
    await callUnary(harness.client, 'Register', request);

    const error = await callUnary(harness.client, 'Register', request).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'CONFLICT', message: 'Email already registered', grpcStatus: 6 });
  });

  it('When validation fails, then VALIDATION_FAILED and its fields (any language) come back', async () => {
    const fields = [
      { field: 'email', message: 'must be an email address' },
      { field: 'name', message: 'ne doit pas être vide — 名前' },
    ];
    harness = await startUserService({
      async Register() {
        throw new AppError('VALIDATION_FAILED', 'Invalid registration', { fields });
      },
    });

    const error = await callUnary(harness.client, 'Register', { email: 'x', password: '', name: '' }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'Invalid registration', fields });
  });

  it('When a call is rate limited, then RATE_LIMITED comes back with its retry-after', async () => {
    harness = await startUserService({
      async Login() {
        throw new AppError('RATE_LIMITED', 'Too many sign-in attempts', { retryAfterSeconds: 42.3 });
      },
    });

    await expect(
      callUnary(harness.client, 'Login', { email: 'a@b.io', password: 'x' }),
    ).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 43,
    });
  });

  it('When two codes share a gRPC status, then the trailer keeps them apart (BAD_REQUEST stays BAD_REQUEST)', async () => {
    harness = await startUserService({
      async GetUser() {
        throw new AppError('BAD_REQUEST', 'id must be a UUID');
      },
    });

    await expect(callUnary(harness.client, 'GetUser', { id: 'x' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'id must be a UUID',
    });
  });

  it('When a handler throws an unexpected error, then the caller gets INTERNAL without its message, and the log keeps it', async () => {
    harness = await startUserService({
      async Login() {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
      },
    });

    const error = await callUnary(harness.client, 'Login', { email: 'a@b.c', password: 'x' }).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error' });
    const remote = (error as AppError).cause as { details: string; metadata: { getMap(): object } };
    expect(remote.details).toBe('Internal server error');
    expect(JSON.stringify(remote.metadata.getMap())).not.toContain('ECONNREFUSED');
    const logged = harness.log.lines().find((line) => line.message === 'gRPC call failed');
    expect(logged).toMatchObject({ grpc_method: 'Login', error_code: 'INTERNAL', level: 'error' });
    expect(String(logged?.error_message)).toContain('ECONNREFUSED');
    expect(String(logged?.stack)).toContain('errors.test.ts');
  });

  it('When a handler outlives the deadline, then the caller gets DEADLINE_EXCEEDED and the handler is told to stop', async () => {
    let aborted: Promise<void> | undefined;
    harness = await startUserService(
      {
        async GetUser(_request, ctx) {
          aborted = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          // Would answer after 2 s; the caller's 100 ms deadline must not wait for it. Slow work takes
          // ctx.signal so it stops when nobody is waiting any more.
          await delay(2_000, undefined, { signal: ctx.signal }).catch(() => undefined);
          return { user: { id: 'late' } };
        },
      },
      { clientDeadlineMs: 100 },
    );

    const started = Date.now();
    const error = await callUnary(harness.client, 'GetUser', { id: 'u1' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'Deadline exceeded' });
    expect(Date.now() - started).toBeLessThan(1_500);
    // The server's own deadline timer cancels the call and aborts ctx.signal.
    await expect(aborted).resolves.toBeUndefined();
  });

  it('When nothing listens at the address, then the caller gets UNAVAILABLE', async () => {
    harness = await startUserService();
    await harness.server.stop(100);

    await expect(callUnary(harness.client, 'GetJwks', {}, { deadlineMs: 2_000 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
  });
});
