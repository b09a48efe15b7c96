import type { Logger, Redis } from '@te/platform';
import { Counter, type Registry } from 'prom-client';
import type { CachedAnswer, ResponseCache, ResponseCacheRequest } from '../domain/ports.js';
import { RedisOutageGuard } from './redis-outage-guard.js';
import { responseCacheKey, userCachePrefix } from './response-cache-key.js';
import { unlinkByPrefix } from './unlink-by-prefix.js';

export interface ResponseCacheSettings {
  /** How long an answer is served (AI_CACHE_TTL_SECONDS); also bounds staleness after an alias moves. */
  ttlSeconds: number;
  /** Answers whose stored JSON is larger are not cached (AI_CACHE_MAX_ENTRY_BYTES). */
  maxEntryBytes: number;
  /** A Redis call slower than this is an outage for that request. */
  timeoutMs?: number;
  /** The service's metrics registry (/metrics); none in component tests. */
  registry?: Registry;
}

/**
 * The exact-match response cache (decision 0020) in Redis: one string per (user, request) key,
 * `SET … EX ttl`. An outage, a timeout or an unreadable entry is a miss; nothing here fails an
 * inference.
 */
export class RedisResponseCache implements ResponseCache {
  private readonly guard: RedisOutageGuard;
  private readonly lookups?: Counter<'result'>;
  private readonly stores?: Counter<'result'>;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly settings: ResponseCacheSettings,
  ) {
    this.guard = new RedisOutageGuard(redis, logger, {
      component: 'response cache',
      consequence: 'answers are neither served from nor stored in it',
      timeoutMs: settings.timeoutMs,
    });
    if (settings.registry) {
      const registers = [settings.registry];
      this.lookups = new Counter({
        name: 'ai_response_cache_lookups_total',
        help: 'Response cache lookups (use_cache requests), by result: hit, miss, unavailable',
        labelNames: ['result'],
        registers,
      });
      this.stores = new Counter({
        name: 'ai_response_cache_stores_total',
        help: 'Answers offered to the response cache, by result: stored, skipped (incomplete or too large), unavailable',
        labelNames: ['result'],
        registers,
      });
    }
  }

  async get(request: ResponseCacheRequest): Promise<CachedAnswer | undefined> {
    const read = await this.guard.run('get', () => this.redis.get(responseCacheKey(request)));
    const hit = read.ok && read.value !== null ? parseEntry(read.value) : undefined;
    this.lookups?.inc({ result: !read.ok ? 'unavailable' : hit ? 'hit' : 'miss' });
    return hit;
  }

  async put(request: ResponseCacheRequest, answer: CachedAnswer): Promise<boolean> {
    if (answer.finishReason !== 'stop' && answer.finishReason !== 'length') {
      this.stores?.inc({ result: 'skipped' });
      return false;
    }
    const entry = JSON.stringify({
      text: answer.text,
      finishReason: answer.finishReason,
      usage: {
        inputTokens: answer.usage.inputTokens,
        outputTokens: answer.usage.outputTokens,
        estimated: answer.usage.estimated,
      },
      modelVersion: answer.modelVersion,
      provider: answer.provider,
    } satisfies CachedAnswer);
    const bytes = Buffer.byteLength(entry, 'utf8');
    if (bytes > this.settings.maxEntryBytes) {
      this.logger.debug('answer too large for the response cache', {
        bytes,
        max_bytes: this.settings.maxEntryBytes,
      });
      this.stores?.inc({ result: 'skipped' });
      return false;
    }
    const written = await this.guard.run('put', () =>
      this.redis.set(responseCacheKey(request), entry, 'EX', this.settings.ttlSeconds),
    );
    this.stores?.inc({ result: written.ok ? 'stored' : 'unavailable' });
    return written.ok;
  }

  /** Erases every cached answer of a user (user.deleted); throws when Redis cannot, so it is retried. */
  forgetUser(userId: string): Promise<number> {
    return unlinkByPrefix(this.redis, userCachePrefix(userId));
  }
}

/** A stored entry, or undefined (a miss) for anything that is not one. */
function parseEntry(text: string): CachedAnswer | undefined {
  try {
    const entry = JSON.parse(text) as Partial<CachedAnswer>;
    const usage = entry.usage;
    if (
      typeof entry.text !== 'string' ||
      (entry.finishReason !== 'stop' && entry.finishReason !== 'length') ||
      typeof entry.modelVersion !== 'string' ||
      typeof entry.provider !== 'string' ||
      !usage ||
      !Number.isInteger(usage.inputTokens) ||
      !Number.isInteger(usage.outputTokens) ||
      typeof usage.estimated !== 'boolean'
    )
      return undefined;
    return {
      text: entry.text,
      finishReason: entry.finishReason,
      usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, estimated: usage.estimated },
      modelVersion: entry.modelVersion,
      provider: entry.provider,
    };
  } catch {
    return undefined;
  }
}
