import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { maskUrl } from './url.js';

export type { Redis };

export interface RedisOptions {
  url: string;
  /** Every key gets this prefix (per environment, per test run). */
  keyPrefix?: string;
  logger: Logger;
  /** Shown in CLIENT LIST; usually the service name. */
  name: string;
}

/**
 * An ioredis client that fails fast while Redis is down (commands reject instead of queueing
 * indefinitely) and keeps reconnecting with capped back-off.
 */
export function createRedis(options: RedisOptions): Redis {
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    connectionName: options.name,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5_000),
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) options.logger.warn('redis connection error', { err: error, redis: maskUrl(options.url) });
    down = true;
  });
  redis.on('ready', () => {
    if (down) options.logger.info('redis connection restored', { redis: maskUrl(options.url) });
    down = false;
  });
  return redis;
}

export function redisReadinessCheck(redis: Redis): () => Promise<void> {
  return async () => {
    if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
    await redis.ping();
  };
}

/** Closes gracefully (QUIT), falling back to disconnect when Redis is unreachable. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
