export { responseCacheConfigFragment } from './cache-config.js';
export { RedisOutageGuard, type Guarded } from './redis-outage-guard.js';
export { replayChunks } from './replay-chunks.js';
export { RedisResponseCache, type ResponseCacheSettings } from './redis-response-cache.js';
export { responseCacheKey, userCachePrefix } from './response-cache-key.js';
export { unlinkByPrefix } from './unlink-by-prefix.js';
