import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';

const settings = {
  failureThreshold: 3,
  failureRatio: 0.5,
  windowMs: 10_000,
  minimumCalls: 6,
  coolDownMs: 1_000,
};

function breaker(overrides: Partial<typeof settings> = {}) {
  let now = 1_000_000;
  const changes: BreakerState[] = [];
  const subject = new CircuitBreaker(
    { ...settings, ...overrides },
    () => now,
    (state) => changes.push(state),
  );
  return {
    subject,
    changes,
    advance: (ms: number) => {
      now += ms;
    },
    fail: (times = 1) => {
      for (let index = 0; index < times; index++) subject.tryAcquire()!.failure();
    },
    succeed: (times = 1) => {
      for (let index = 0; index < times; index++) subject.tryAcquire()!.success();
    },
  };
}

describe('circuit breaker', () => {
  it('When failures follow each other up to the threshold, then it opens and refuses calls', () => {
    const { subject, fail, changes } = breaker();
    fail(2);
    expect(subject.state).toBe('closed');
    fail();
    expect(subject.state).toBe('open');
    expect(subject.tryAcquire()).toBeUndefined();
    expect(changes).toEqual(['open']);
  });

  it('When a success comes between failures, then the consecutive count starts again', () => {
    const { subject, fail, succeed } = breaker({ minimumCalls: 100 });
    fail(2);
    succeed();
    fail(2);
    expect(subject.state).toBe('closed');
  });

  it('When failures reach the ratio of enough calls in the window, then it opens', () => {
    const { subject, fail, succeed } = breaker({ failureThreshold: 100 });
    // 3 of 5: not enough calls yet; the 6th call makes 3 of 6 = 50 %.
    fail();
    succeed();
    fail();
    succeed();
    fail();
    expect(subject.state).toBe('closed');
    succeed();
    expect(subject.state).toBe('closed');
    fail();
    expect(subject.state).toBe('open');
  });

  it('When old calls leave the rolling window, then they no longer count', () => {
    const { subject, fail, succeed, advance } = breaker({ failureThreshold: 100 });
    fail(2);
    succeed();
    fail();
    advance(11_000);
    succeed(5);
    fail();
    // Only 1 failure in 6 calls within the last 10 s.
    expect(subject.state).toBe('closed');
  });

  it('When the cool-down passes, then one probe is let through and its success closes the circuit', () => {
    const { subject, fail, advance, changes } = breaker();
    fail(3);
    advance(999);
    expect(subject.tryAcquire()).toBeUndefined();
    expect(subject.retryInMs()).toBe(1);
    advance(1);
    expect(subject.state).toBe('half_open');
    const probe = subject.tryAcquire()!;
    expect(probe).toBeDefined();
    expect(subject.tryAcquire()).toBeUndefined();
    probe.success();
    expect(subject.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
    // Closed again with a clean slate: two failures do not reopen it.
    fail(2);
    expect(subject.state).toBe('closed');
  });

  it('When the probe fails, then the circuit opens for another cool-down', () => {
    const { subject, fail, advance } = breaker();
    fail(3);
    advance(1_000);
    subject.tryAcquire()!.failure();
    expect(subject.state).toBe('open');
    advance(999);
    expect(subject.state).toBe('open');
    advance(1);
    expect(subject.state).toBe('half_open');
  });

  it('When the probe ends saying nothing about the provider, then another probe may go', () => {
    const { subject, fail, advance } = breaker();
    fail(3);
    advance(1_000);
    subject.tryAcquire()!.release();
    expect(subject.state).toBe('half_open');
    expect(subject.tryAcquire()).toBeDefined();
  });

  it('When neutral outcomes come, then they count neither way', () => {
    const { subject, fail } = breaker();
    fail(2);
    for (let index = 0; index < 10; index++) subject.tryAcquire()!.release();
    fail();
    expect(subject.state).toBe('open');
  });

  it('When a call admitted before the circuit opened fails late, then it does not extend the open period', () => {
    const { subject, fail, advance } = breaker();
    const slow = subject.tryAcquire()!;
    fail(3);
    advance(1_000);
    slow.failure();
    expect(subject.state).toBe('half_open');
    // Settling twice is ignored.
    const probe = subject.tryAcquire()!;
    probe.success();
    probe.failure();
    expect(subject.state).toBe('closed');
  });
});
