import { randomUUID } from 'node:crypto';
import { AppError, captureLogger, closeRedis, createRedis, type Redis } from '@te/platform';
import { testRedisPrefix, waitFor } from '@te/testing';
import { Registry } from 'prom-client';
import { dailyWindow, RedisTokenBudget, type TokenBudgetSettings } from '../src/budget/index.js';
import type { TokenReservation } from '../src/domain/ports.js';
import { startOwnRedis, type OwnRedis } from './support/own-redis.js';

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

/** A clock the test moves; it starts at the real time, so Redis's own key expiry stays meaningful. */
function testClock() {
  let now = Date.now();
  return {
    clock: () => new Date(now),
    set: (at: number) => (now = at),
    advance: (ms: number) => (now += ms),
    get now() {
      return now;
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the reservation to be refused');
}

describe('token budget on the real Redis', () => {
  const { prefix, cleanup } = testRedisPrefix();
  const logs = captureLogger('token-budget-test');
  let replicaA: Redis;
  let replicaB: Redis;
  const settings: TokenBudgetSettings = { tokensPerDay: 1_000, reservationTtlSeconds: 60 };

  beforeAll(async () => {
    replicaA = createRedis({ url: REDIS_URL, keyPrefix: prefix, logger: logs.logger, name: 'budget-a' });
    replicaB = createRedis({ url: REDIS_URL, keyPrefix: prefix, logger: logs.logger, name: 'budget-b' });
    await Promise.all([replicaA.connect(), replicaB.connect()]);
  });

  afterAll(async () => {
    await cleanup(replicaA);
    await Promise.all([closeRedis(replicaA), closeRedis(replicaB)]);
  });

  it('When many reservations race from two replicas, then together they never pass the budget', async () => {
    const user = randomUUID();
    const a = new RedisTokenBudget(replicaA, logs.logger, settings);
    const b = new RedisTokenBudget(replicaB, logs.logger, settings);
    const attempts = Array.from({ length: 30 }, (_, index) =>
      (index % 2 ? a : b).reserve(user, 120).then(
        (reservation) => reservation,
        (error: unknown) => error as AppError,
      ),
    );
    const results = await Promise.all(attempts);
    const held = results.filter((result) => !(result instanceof AppError)) as TokenReservation[];
    const refused = results.filter((result) => result instanceof AppError);
    expect(held).toHaveLength(8); // 8 × 120 = 960 ≤ 1000 < 9 × 120
    expect(held.every((reservation) => reservation.enforced && reservation.tokens === 120)).toBe(true);
    expect(refused).toHaveLength(22);
    expect(refused.every((error) => error.code === 'RATE_LIMITED')).toBe(true);
    expect(await a.state(user)).toEqual({ used: 0, held: 960 });
  });

  it('When a call settles, then its hold is replaced by what it used and the rest is free again', async () => {
    const user = randomUUID();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings);
    const reservation = await budget.reserve(user, 900);
    expect(await budget.state(user)).toEqual({ used: 0, held: 900 });
    expect((await refusal(budget.reserve(user, 200))).code).toBe('RATE_LIMITED');

    await budget.settle(reservation, 150);
    expect(await budget.state(user)).toEqual({ used: 150, held: 0 });
    const next = await budget.reserve(user, 850); // 150 + 850 = 1000: exactly fits
    expect(next.enforced).toBe(true);
    expect((await refusal(budget.reserve(user, 1))).code).toBe('RATE_LIMITED');
  });

  it('When a call fails and releases its hold, then nothing is counted', async () => {
    const user = randomUUID();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings);
    const reservation = await budget.reserve(user, 700);
    await budget.release(reservation);
    expect(await budget.state(user)).toEqual({ used: 0, held: 0 });
    await budget.release(reservation); // a second release changes nothing
    expect((await budget.reserve(user, 1_000)).enforced).toBe(true);
  });

  it('When the budget is used up, then RATE_LIMITED says so and retry-after is the time until the UTC day resets', async () => {
    const user = randomUUID();
    const time = testClock();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings, time.clock);
    await budget.settle(await budget.reserve(user, 100), 990);

    const error = await refusal(budget.reserve(user, 20));
    const window = dailyWindow(time.clock());
    const untilReset = Math.ceil((window.endsAt.getTime() - time.now) / 1000);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: Math.max(1, untilReset),
      details: {
        reason: 'token_budget',
        budget_tokens: 1_000,
        used_tokens: 990,
        requested_tokens: 20,
        resets_at: window.endsAt.toISOString(),
      },
    });
    expect(error.message).toContain('daily token budget');
    expect(error.grpcStatus).toBe(8); // RESOURCE_EXHAUSTED
    expect(error.httpStatus).toBe(429);
  });

  it('When only calls in flight hold the budget, then retry-after is a few seconds, not the day', async () => {
    const user = randomUUID();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings);
    await budget.reserve(user, 800);
    const error = await refusal(budget.reserve(user, 300));
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(5);
    expect(error.details).toMatchObject({ used_tokens: 0, held_tokens: 800 });
  });

  it('When a process dies holding tokens, then its hold expires after the reservation TTL', async () => {
    const user = randomUUID();
    const time = testClock();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings, time.clock);
    await budget.reserve(user, 800); // never settled: the replica crashed
    time.advance(59_000);
    expect((await refusal(budget.reserve(user, 300))).code).toBe('RATE_LIMITED');
    expect(await budget.state(user, time.clock())).toEqual({ used: 0, held: 800 });

    time.advance(1_001);
    expect(await budget.state(user, time.clock())).toEqual({ used: 0, held: 0 });
    expect((await budget.reserve(user, 1_000)).enforced).toBe(true);
  });

  it('When a call outlives its hold, then settling still counts what it used', async () => {
    const user = randomUUID();
    const time = testClock();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings, time.clock);
    const slow = await budget.reserve(user, 500);
    time.advance(61_000);
    await budget.settle(slow, 400);
    expect(await budget.state(user, time.clock())).toEqual({ used: 400, held: 0 });
  });

  it('When the UTC day ends, then the budget resets; a call started before midnight settles into its own day', async () => {
    const user = randomUUID();
    const time = testClock();
    time.set(dailyWindow(time.clock()).endsAt.getTime() - 10_000); // 23:59:50 UTC
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings, time.clock);
    await budget.settle(await budget.reserve(user, 600), 600);
    const lateCall = await budget.reserve(user, 400);
    const error = await refusal(budget.reserve(user, 500)); // 600 used + 500 > 1000
    expect(error.retryAfterSeconds).toBe(10);

    time.advance(11_000); // 00:00:01 UTC, the next day
    await budget.settle(lateCall, 400);
    expect(await budget.state(user, time.clock())).toEqual({ used: 0, held: 0 });
    expect(await budget.state(user, new Date(time.now - 86_400_000))).toEqual({ used: 1_000, held: 0 });
    expect((await budget.reserve(user, 1_000)).window).toBe(dailyWindow(time.clock()).id);
  });

  it('When one request is larger than the whole budget, then it holds the whole budget and runs only on an untouched day', async () => {
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings);
    const fresh = randomUUID();
    expect(await budget.reserve(fresh, 20_000)).toMatchObject({ enforced: true, tokens: 1_000 });
    const used = randomUUID();
    await budget.settle(await budget.reserve(used, 10), 10);
    expect((await refusal(budget.reserve(used, 20_000))).code).toBe('RATE_LIMITED');
  });

  it('When the budget is 0 (unlimited), then nothing is held and Redis is not asked', async () => {
    const budget = new RedisTokenBudget(replicaA, logs.logger, { ...settings, tokensPerDay: 0 });
    const user = randomUUID();
    const reservation = await budget.reserve(user, 1e9);
    expect(reservation.enforced).toBe(false);
    await budget.settle(reservation, 1e9);
    expect(await replicaA.exists(...RedisTokenBudget.keys(user, reservation.window))).toBe(0);
  });

  it('When keys are written, then they live under the user’s prefix and expire a day after their window', async () => {
    const user = randomUUID();
    const budget = new RedisTokenBudget(replicaA, logs.logger, settings);
    const reservation = await budget.reserve(user, 10);
    const [state, holds] = RedisTokenBudget.keys(user, reservation.window);
    for (const key of [state, holds]) {
      expect(key.startsWith(RedisTokenBudget.userPrefix(user))).toBe(true);
      const expiresAt = await replicaA.pexpiretime(key);
      expect(expiresAt).toBe(dailyWindow(new Date()).endsAt.getTime() + 86_400_000);
    }
  });
});

describe('token budget while its Redis is down (fail-open)', () => {
  let own: OwnRedis;
  let redis: Redis;
  const logs = captureLogger('token-budget-outage-test');

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = createRedis({ url: own.url, logger: logs.logger, name: 'budget-outage-test' });
    await redis.connect();
  }, 30_000);

  afterAll(async () => {
    await closeRedis(redis);
    await own.kill();
  });

  it('When Redis is unreachable, then calls go ahead unchecked, the outage is logged once, and enforcement resumes when it is back', async () => {
    const registry = new Registry();
    const budget = new RedisTokenBudget(redis, logs.logger, {
      tokensPerDay: 100,
      reservationTtlSeconds: 60,
      registry,
    });
    const user = randomUUID();
    await budget.settle(await budget.reserve(user, 100), 100);
    expect((await refusal(budget.reserve(user, 1))).code).toBe('RATE_LIMITED');

    await own.kill();
    const unchecked = [await budget.reserve(user, 50), await budget.reserve(user, 50)];
    expect(unchecked.map((reservation) => reservation.enforced)).toEqual([false, false]);
    await budget.settle(unchecked[0], 50); // nothing to settle: no error
    await budget.release(unchecked[1]);
    const warnings = logs
      .lines()
      .filter((line) => line['message'] === 'token budget unavailable: budgets are not enforced (fail-open)');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', operation: 'reserve' });
    const counted = await registry.getSingleMetric('ai_token_budget_reservations_total')!.get();
    expect(Object.fromEntries(counted.values.map((value) => [value.labels['outcome'], value.value]))).toEqual(
      {
        held: 1,
        refused: 1,
        unenforced: 2,
      },
    );

    // A fresh user: a reservation that timed out may still be applied from the client's offline queue
    // once Redis is back (its hold then expires after the TTL).
    await own.restart();
    await waitFor(() => redis.status === 'ready', {
      timeoutMs: 20_000,
      description: 'the client to reconnect',
    });
    const later = randomUUID();
    expect((await budget.reserve(later, 100)).enforced).toBe(true);
    expect((await refusal(budget.reserve(later, 1))).code).toBe('RATE_LIMITED');
    expect(logs.lines().some((line) => line['message'] === 'token budget available again')).toBe(true);
  }, 60_000);
});
