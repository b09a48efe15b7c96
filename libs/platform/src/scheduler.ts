import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface SchedulerOptions {
  redis: Redis;
  logger: Logger;
  service: string;
  metrics?: Metrics;
  /**
   * How long a running job's lock lives without renewal (default 15 s); renewed every third of it.
   * Long enough that a busy event loop cannot let it lapse, short enough that a crashed replica's
   * lock frees up soon.
   */
  leaseMs?: number;
}

interface Job {
  name: string;
  intervalMs: number;
  run: () => Promise<void>;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

// Touch the lock only while we still own it (another replica may own it after expiry). A TTL of 0
// or less deletes it.
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then return redis.call('pexpire', KEYS[1], ARGV[2]) else return redis.call('del', KEYS[1]) end
else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Periodic maintenance jobs (outbox purge, expired-token cleanup, ...) that must run once per interval
 * across all replicas. Each tick takes a Redis lock (`SET key owner NX PX lease`); the replica that
 * gets it runs the job, renewing the lease while it runs, and afterwards keeps the lock for the rest
 * of the interval, so the fleet runs the job once per interval and never twice at the same time.
 */
export class Scheduler {
  private readonly jobs: Job[] = [];
  private readonly owner = `${process.pid}-${randomUUID()}`;
  private started = false;

  constructor(private readonly options: SchedulerOptions) {}

  every(name: string, intervalMs: number, run: () => Promise<void>): void {
    if (this.jobs.some((job) => job.name === name)) throw new Error(`job ${name} is already scheduled`);
    this.jobs.push({ name, intervalMs, run });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const job of this.jobs) this.plan(job, jitter(job.intervalMs));
  }

  /** Stops planning new runs, waits for running ones and releases the locks this replica holds. */
  async stop(): Promise<void> {
    this.started = false;
    for (const job of this.jobs) clearTimeout(job.timer);
    await Promise.allSettled(this.jobs.map((job) => job.running));
    await Promise.allSettled(
      this.jobs.map((job) => this.options.redis.eval(RELEASE, 1, this.lockKey(job), this.owner)),
    );
  }

  /** Runs one tick of a job now (if this replica gets the lock); returns whether it ran. */
  async tick(name: string): Promise<boolean> {
    const job = this.jobs.find((candidate) => candidate.name === name);
    if (!job) throw new Error(`unknown job ${name}`);
    return this.runIfLocked(job);
  }

  private plan(job: Job, delayMs: number): void {
    if (!this.started) return;
    job.timer = setTimeout(() => {
      job.running = this.runIfLocked(job)
        .then(() => undefined)
        .finally(() => {
          job.running = undefined;
          this.plan(job, job.intervalMs);
        });
    }, delayMs);
    job.timer.unref();
  }

  private async runIfLocked(job: Job): Promise<boolean> {
    const { redis, logger, metrics } = this.options;
    const key = this.lockKey(job);
    const leaseMs = this.options.leaseMs ?? 15_000;
    const started = Date.now();
    let acquired: string | null;
    try {
      acquired = await redis.set(key, this.owner, 'PX', Math.max(leaseMs, job.intervalMs), 'NX');
    } catch (error) {
      logger.warn('scheduler could not reach redis; job skipped', { job: job.name, err: error });
      return false;
    }
    if (acquired !== 'OK') return false;
    const heartbeat = setInterval(
      () => {
        redis.eval(EXTEND, 1, key, this.owner, String(job.intervalMs)).catch(() => undefined);
      },
      Math.max(50, Math.floor(job.intervalMs / 2)),
    );
    const end = metrics?.jobDuration.startTimer({ job: job.name });
    try {
      await job.run();
      end?.({ outcome: 'success' });
      logger.debug('scheduled job ran', { job: job.name });
    } catch (error) {
      end?.({ outcome: 'failure' });
      logger.error('scheduled job failed', { job: job.name, err: error });
    } finally {
      clearInterval(heartbeat);
      // Hold the lock for what is left of the interval, so no replica runs the job again before it ends.
      const rest = job.intervalMs - (Date.now() - started);
      await redis.eval(EXTEND, 1, key, this.owner, String(rest)).catch(() => undefined);
    }
    return true;
  }

  private lockKey(job: Job): string {
    return `scheduler:${this.options.service}:${job.name}`;
  }
}

// Spreads the first runs of many replicas started together.
function jitter(intervalMs: number): number {
  return Math.floor(Math.random() * Math.min(intervalMs, 5_000));
}
