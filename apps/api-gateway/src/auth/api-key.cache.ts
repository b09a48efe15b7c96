import { createHash } from 'node:crypto';
import type { Principal } from '@te/platform';

/** What user-service answered for a presented key: the principal and how long it may be trusted. */
export interface ResolvedApiKey {
  principal: Principal & { apiKeyId: string };
  ttlSeconds: number;
}

export interface ApiKeyCacheOptions {
  /**
   * Asks user-service. Resolves undefined when the key is not valid (UNAUTHENTICATED); rejects when
   * user-service cannot answer (that is never cached: an outage is not a verdict on the key).
   */
  resolve: (secret: string) => Promise<ResolvedApiKey | undefined>;
  /** Entries kept at most (each of the positive and the negative cache); the least recently used go first. */
  maxEntries: number;
  /** How long "not a valid key" is remembered, so a script retrying a dead key does not hammer user-service. */
  negativeTtlMs: number;
  /** The gateway's own ceiling over the TTL user-service grants. */
  maxTtlMs: number;
  now?: () => number;
}

/**
 * Resolved API keys, briefly, in this gateway's memory: without it every request with a key would be
 * a gRPC call and a database read. Entries are keyed by SHA-256 of the key (the secrets themselves
 * are not kept). Revocation through this gateway evicts at once; other replicas notice within the
 * TTL user-service grants (API_KEY_CACHE_TTL_SECONDS there, never past the key's expiry). Concurrent
 * lookups of one key share a single call.
 */
export class ApiKeyCache {
  private readonly valid: BoundedTtlMap<ResolvedApiKey['principal']>;
  private readonly invalid: BoundedTtlMap<true>;
  /** Keys revoked through this gateway recently: an answer already in flight must not re-cache them. */
  private readonly evicted: BoundedTtlMap<true>;
  private readonly inFlight = new Map<string, Promise<ResolvedApiKey['principal'] | undefined>>();
  private readonly now: () => number;

  constructor(private readonly options: ApiKeyCacheOptions) {
    this.now = options.now ?? Date.now;
    this.valid = new BoundedTtlMap(options.maxEntries, this.now);
    this.invalid = new BoundedTtlMap(options.maxEntries, this.now);
    this.evicted = new BoundedTtlMap(options.maxEntries, this.now);
  }

  /** The principal the key acts for, or undefined when it is not a valid key. */
  async lookup(secret: string): Promise<ResolvedApiKey['principal'] | undefined> {
    const id = createHash('sha256').update(secret).digest('base64url');
    const cached = this.valid.get(id);
    if (cached) return cached;
    if (this.invalid.get(id)) return undefined;
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.fetch(id, secret).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  /** Forgets a key at once (called after it was revoked through this gateway). */
  evictKey(apiKeyId: string): void {
    this.evicted.set(apiKeyId, true, this.options.maxTtlMs);
    this.valid.deleteWhere((principal) => principal.apiKeyId === apiKeyId);
  }

  private async fetch(id: string, secret: string): Promise<ResolvedApiKey['principal'] | undefined> {
    const resolved = await this.options.resolve(secret);
    if (!resolved) {
      this.invalid.set(id, true, this.options.negativeTtlMs);
      return undefined;
    }
    const ttlMs = Math.min(resolved.ttlSeconds * 1000, this.options.maxTtlMs);
    if (ttlMs > 0 && !this.evicted.get(resolved.principal.apiKeyId))
      this.valid.set(id, resolved.principal, ttlMs);
    return resolved.principal;
  }
}

/** A Map with per-entry expiry and a size bound (least recently used evicted first). */
class BoundedTtlMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value)) this.entries.delete(key);
  }
}
