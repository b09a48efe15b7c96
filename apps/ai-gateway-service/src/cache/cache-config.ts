import { env } from '@te/platform';

/** The response cache's variables, to spread into the service's schema (decision 0020). */
export const responseCacheConfigFragment = {
  AI_CACHE_TTL_SECONDS: env
    .positiveInt(3_600)
    .describe('how long a cached answer is served (use_cache); also bounds staleness after an alias moves'),
  AI_CACHE_MAX_ENTRY_BYTES: env
    .positiveInt(262_144)
    .describe('answers whose cache entry (JSON) is larger are not cached'),
};
