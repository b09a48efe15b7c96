import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { AppError, type Redis } from '@te/platform';
import type { LoginThrottle, ThrottleKey, ThrottleScope } from '../domain/login-throttle.js';

export interface LoginThrottleSettings {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
}

interface Counter {
  scope: ThrottleScope;
  key: string;
  max: number;
}

/**
 * Failure counters in Redis, shared by every replica: a fixed window that opens with the first
 * failure (INCR, then PEXPIRE NX). Emails are hashed in key names (no addresses at rest in Redis).
 * Fails closed: when Redis cannot answer, sign-in is unavailable rather than unthrottled.
 */
export class RedisLoginThrottle implements LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly settings: LoginThrottleSettings,
  ) {}

  async lockedFor(key: ThrottleKey): Promise<number | undefined> {
    const counters = this.counters(key);
    const pipeline = this.redis.pipeline();
    for (const counter of counters) pipeline.get(counter.key).pttl(counter.key);
    const results = await this.run(() => pipeline.exec());
    let waitMs: number | undefined;
    counters.forEach((counter, index) => {
      const count = Number(results[index * 2]);
      const ttl = Number(results[index * 2 + 1]);
      if (count >= counter.max) waitMs = Math.max(waitMs ?? 0, ttl > 0 ? ttl : 1000);
    });
    return waitMs === undefined ? undefined : Math.ceil(waitMs / 1000);
  }

  async recordFailure(key: ThrottleKey): Promise<{ lockedOut: ThrottleScope[]; retryAfterSeconds: number }> {
    const counters = this.counters(key);
    const windowMs = this.settings.windowSeconds * 1000;
    const transaction = this.redis.multi();
    for (const counter of counters) {
      transaction.incr(counter.key).pexpire(counter.key, windowMs, 'NX').pttl(counter.key);
    }
    const results = await this.run(() => transaction.exec());
    const lockedOut: ThrottleScope[] = [];
    let waitMs = 0;
    counters.forEach((counter, index) => {
      // Exactly the failure that reaches the limit starts a lockout (once per lockout: later attempts
      // are refused before they are counted).
      if (Number(results[index * 3]) === counter.max) {
        lockedOut.push(counter.scope);
        waitMs = Math.max(waitMs, Number(results[index * 3 + 2]));
      }
    });
    return { lockedOut, retryAfterSeconds: Math.ceil(Math.max(waitMs, 1000) / 1000) };
  }

  async recordSuccess(key: ThrottleKey): Promise<void> {
    await this.run(() => this.redis.del(accountKey(key.email)));
  }

  private counters(key: ThrottleKey): Counter[] {
    const counters: Counter[] = [
      { scope: 'account', key: accountKey(key.email), max: this.settings.maxFailuresPerAccount },
    ];
    if (key.ip) {
      counters.push({
        scope: 'ip',
        key: `login-failures:ip:${addressBucket(key.ip)}`,
        max: this.settings.maxFailuresPerIp,
      });
    }
    return counters;
  }

  /** Runs a command; a Redis failure becomes UNAVAILABLE, and [error, value] replies become values. */
  private async run<T>(command: () => Promise<T>): Promise<unknown[]> {
    let reply: unknown;
    try {
      reply = await command();
    } catch (error) {
      throw new AppError('UNAVAILABLE', 'Sign-in is temporarily unavailable', { cause: error });
    }
    if (!Array.isArray(reply)) return [reply];
    return reply.map((entry: unknown) => {
      if (!Array.isArray(entry)) return entry;
      const [error, value] = entry as [Error | null, unknown];
      if (error) throw new AppError('UNAVAILABLE', 'Sign-in is temporarily unavailable', { cause: error });
      return value;
    });
  }
}

function accountKey(email: string): string {
  return `login-failures:account:${createHash('sha256').update(email).digest('hex')}`;
}

/**
 * One bucket per IPv4 address, per /64 for IPv6 (one subscriber usually holds a whole /64, so counting
 * single IPv6 addresses would let one client rotate through billions of them).
 */
export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = ip.includes('::') ? [...headParts, ...Array(missing).fill('0'), ...tailParts] : headParts;
  return `${parts
    .slice(0, 4)
    .map((part) => part.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
