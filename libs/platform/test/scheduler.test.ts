import { randomUUID } from 'node:crypto';
import {
  captureLogger,
  closeRedis,
  createMetrics,
  createRedis,
  redisReadinessCheck,
  Scheduler,
  type Redis,
} from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('Scheduler (two replicas on the real Redis)', () => {
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  const { logger } = captureLogger('scheduler-test');
  let redisA: Redis;
  let redisB: Redis;

  beforeAll(async () => {
    redisA = createRedis({ url: REDIS_URL, keyPrefix: prefix, logger, name: 'replica-a' });
    redisB = createRedis({ url: REDIS_URL, keyPrefix: prefix, logger, name: 'replica-b' });
    await Promise.all([redisA.connect(), redisB.connect()]);
  });
  afterAll(async () => {
    const keys = await redisA.keys(`${prefix}*`);
    if (keys.length) await redisA.del(...keys.map((k) => k.slice(prefix.length)));
    await Promise.all([closeRedis(redisA), closeRedis(redisB)]);
  });

  it('When both replicas tick the same job at once, then exactly one runs it', async () => {
    let runs = 0;
    const job = async () => {
      runs += 1;
    };
    const a = new Scheduler({ redis: redisA, logger, service: 'svc' });
    const b = new Scheduler({ redis: redisB, logger, service: 'svc' });
    a.every('purge', 10_000, job);
    b.every('purge', 10_000, job);
    const ran = await Promise.all([a.tick('purge'), b.tick('purge')]);
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
    // Within the same interval, nobody runs it again.
    expect(await Promise.all([a.tick('purge'), b.tick('purge')])).toEqual([false, false]);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('When the interval has passed, then the job runs again (on whichever replica gets the lock)', async () => {
    let runs = 0;
    const a = new Scheduler({ redis: redisA, logger, service: 'svc' });
    a.every('short', 100, async () => {
      runs += 1;
    });
    expect(await a.tick('short')).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await a.tick('short')).toBe(true);
    expect(runs).toBe(2);
    await a.stop();
  });

  it('When a run lasts longer than the interval, then the lock is extended and the other replica does not start it', async () => {
    const a = new Scheduler({ redis: redisA, logger, service: 'svc' });
    const b = new Scheduler({ redis: redisB, logger, service: 'svc' });
    let concurrent = 0;
    let maxConcurrent = 0;
    const job = async () => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 400));
      concurrent -= 1;
    };
    a.every('long', 100, job);
    b.every('long', 100, job);
    const first = a.tick('long');
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.tick('long')).toBe(false);
    expect(await first).toBe(true);
    expect(maxConcurrent).toBe(1);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('When started, then jobs run on their own and a failing job is measured and logged without stopping the schedule', async () => {
    const captured = captureLogger('scheduler-test');
    const metrics = createMetrics({ service: 'svc', defaultMetrics: false });
    const a = new Scheduler({
      redis: redisA,
      logger: captured.logger,
      service: `svc-${randomUUID()}`,
      metrics,
    });
    let calls = 0;
    a.every('flaky', 60, async () => {
      calls += 1;
      throw new Error('flaky failure');
    });
    a.start();
    await new Promise((r) => setTimeout(r, 400));
    await a.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(captured.lines().some((l) => l.message === 'scheduled job failed' && l.job === 'flaky')).toBe(
      true,
    );
    expect(await metrics.registry.metrics()).toMatch(
      /scheduled_job_duration_seconds_count\{job="flaky",outcome="failure"\} [2-9]/,
    );
  });

  it('When Redis is unreachable, then the readiness check fails and a tick is skipped, not thrown', async () => {
    const dead = createRedis({ url: 'redis://127.0.0.1:1', logger, name: 'dead' });
    dead.connect().catch(() => undefined);
    await expect(redisReadinessCheck(dead)()).rejects.toThrow(/redis is/);
    const s = new Scheduler({ redis: dead, logger, service: 'svc' });
    s.every('x', 1_000, async () => undefined);
    expect(await s.tick('x')).toBe(false);
    dead.disconnect();
  });
});
