/**
 * Personal API keys: long-lived credentials a user makes for scripts and integrations. The secret is
 * shown once; only its SHA-256 is stored (api-key.secret.ts). A key acts for its owner with a subset
 * of the owner's scopes, and loses any scope the owner loses (checked on every authentication).
 */
export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  /** `tek_<public id>`: unique, shown in listings, how a presented key is found. */
  prefix: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** What authentication needs: the stored hash, the revocation mark and the owner's current roles. */
export interface StoredApiKey extends ApiKey {
  secretHash: string;
  revokedAt: Date | null;
  ownerRoles: string[];
}

/** Persistence of API keys (src/db/api-key.repository.ts). */
export interface ApiKeyStore {
  /** Inserts a key; throws `ApiKeyPrefixTaken` when the prefix already exists (the caller retries). */
  create(key: {
    userId: string;
    name: string;
    prefix: string;
    secretHash: string;
    scopes: string[];
    expiresAt: Date | null;
  }): Promise<ApiKey>;
  /** The user's keys that are neither revoked nor expired at `now`, newest first. */
  listActive(userId: string, now: Date): Promise<ApiKey[]>;
  countActive(userId: string, now: Date): Promise<number>;
  /** Marks the user's key revoked if it is not already; the key as it was, or undefined (not theirs, unknown, already revoked). */
  revoke(userId: string, id: string, now: Date): Promise<ApiKey | undefined>;
  findByPrefix(prefix: string): Promise<StoredApiKey | undefined>;
  /**
   * Sets `last_used_at = now` only when it is unset or older than `staleBefore`: one conditional
   * UPDATE, so replicas never write more than once per interval. Never throws (a failed write must not
   * fail the request it describes).
   */
  touchLastUsed(id: string, now: Date, staleBefore: Date): Promise<void>;
}

export class ApiKeyPrefixTaken extends Error {
  constructor() {
    super('API key prefix already exists');
    this.name = 'ApiKeyPrefixTaken';
  }
}

/** Limits of the API (documented in the gateway's route and the proto). */
export const API_KEY_LIMITS = {
  nameMaxLength: 100,
  /** RFC 9700 §2.2.2 / OWASP: credentials should not live forever; a chosen expiry is at most a year. */
  maxLifetimeDays: 365,
  /** Bounds what one account can store (and what a leaked session can mint). */
  maxActiveKeysPerUser: 50,
  /** `last_used_at` is written at most this often per key (a write per request would be a hot row). */
  lastUsedWriteIntervalMs: 60_000,
} as const;
