import { AppError } from '@te/platform';
import { CircuitBreaker, guardClient, isPeerFailure, type CircuitState } from './circuit-breaker.js';

const unavailable = () =>
  new AppError('UNAVAILABLE', 'Service unavailable', { details: { grpcStatus: 'UNAVAILABLE' } });
const cancelled = () =>
  new AppError('UNAVAILABLE', 'Service unavailable', { details: { grpcStatus: 'CANCELLED' } });

function breakerAt(clock: { now: number }, changes: CircuitState[] = []) {
  return new CircuitBreaker(
    { failureThreshold: 3, openMs: 1_000 },
    (state) => changes.push(state),
    () => clock.now,
  );
}

function fail(breaker: CircuitBreaker, times: number) {
  for (let i = 0; i < times; i += 1) breaker.tryAcquire()!.failure();
}

describe('CircuitBreaker', () => {
  test('When failures are consecutive up to the threshold, then it opens; a success in between resets the count', () => {
    const clock = { now: 0 };
    const breaker = breakerAt(clock);
    fail(breaker, 2);
    breaker.tryAcquire()!.success();
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(breaker.retryInMs()).toBe(1_000);
  });

  test('When the open time has passed, then one probe is admitted; its success closes the circuit', () => {
    const clock = { now: 0 };
    const changes: CircuitState[] = [];
    const breaker = breakerAt(clock, changes);
    fail(breaker, 3);
    clock.now = 999;
    expect(breaker.tryAcquire()).toBeUndefined();
    clock.now = 1_000;
    const probe = breaker.tryAcquire();
    expect(probe).toBeDefined();
    expect(breaker.tryAcquire()).toBeUndefined(); // one probe at a time
    probe!.success();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  test('When the probe fails, then the circuit opens again for the whole open time', () => {
    const clock = { now: 0 };
    const breaker = breakerAt(clock);
    fail(breaker, 3);
    clock.now = 1_500;
    breaker.tryAcquire()!.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.retryInMs()).toBe(1_000);
  });

  test('When a probe is released (the caller went away), then another probe may go', () => {
    const clock = { now: 0 };
    const breaker = breakerAt(clock);
    fail(breaker, 3);
    clock.now = 1_000;
    breaker.tryAcquire()!.release();
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()).toBeDefined();
  });

  test('When a call admitted before the circuit opened settles late, then it changes nothing', () => {
    const clock = { now: 0 };
    const breaker = breakerAt(clock);
    const slow = breaker.tryAcquire()!;
    fail(breaker, 3);
    slow.success();
    expect(breaker.state).toBe('open');
  });
});

describe('isPeerFailure', () => {
  test('When the peer is unreachable or too slow, then it counts; an answer or our own cancellation does not', () => {
    expect(isPeerFailure(unavailable())).toBe(true);
    expect(isPeerFailure(new AppError('DEADLINE_EXCEEDED', 'Deadline exceeded'))).toBe(true);
    expect(isPeerFailure(cancelled())).toBe(false);
    expect(isPeerFailure(new AppError('NOT_FOUND', 'nope'))).toBe(false);
    expect(isPeerFailure(new Error('bug'))).toBe(false);
  });
});

describe('guardClient', () => {
  test('When calls fail with UNAVAILABLE up to the threshold, then the next call fails fast with 503 and Retry-After, without calling', async () => {
    const breaker = breakerAt({ now: 0 });
    let calls = 0;
    const client = guardClient(
      {
        nested: {
          get: () => {
            calls += 1;
            return Promise.reject(unavailable());
          },
        },
        close: () => 'closed',
      },
      breaker,
      'user-service',
    );
    for (let i = 0; i < 3; i += 1)
      await expect(client.nested.get()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const fast = client.nested.get();
    await expect(fast).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryAfterSeconds: 1,
      details: { upstream: 'user-service', circuit: 'open' },
    });
    expect(calls).toBe(3);
    expect(client.close()).toBe('closed');
  });

  test('When a stream yields a message, then it counts as a success; while open, iterating fails at once', async () => {
    const breaker = breakerAt({ now: 0 });
    async function* messages() {
      yield 1;
      yield 2;
    }
    const broken = (): AsyncIterable<number> => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(unavailable()) }),
    });
    const client = guardClient({ ok: () => messages(), bad: () => broken() }, breaker, 'context-service');
    const seen: number[] = [];
    for await (const message of client.ok()) seen.push(message);
    expect(seen).toEqual([1, 2]);
    for (let i = 0; i < 3; i += 1) {
      await expect(async () => {
        for await (const _ of client.bad()) void _;
      }).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    }
    expect(breaker.state).toBe('open');
    await expect(async () => {
      for await (const _ of client.ok()) void _;
    }).rejects.toMatchObject({ details: { circuit: 'open' } });
  });

  test('When the peer answers with an error of its own, then the circuit stays closed', async () => {
    const breaker = breakerAt({ now: 0 });
    const client = guardClient({ get: () => Promise.reject(new AppError('NOT_FOUND', 'x')) }, breaker, 's');
    for (let i = 0; i < 5; i += 1) await expect(client.get()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(breaker.state).toBe('closed');
  });
});
