import { AppError, scopesForRoles } from '@te/platform';
import { API_KEY_LIMITS, type ApiKeyStore } from './api-key.js';
import { apiKeyMatches, apiKeyPrefix, hashApiKey } from './api-key.secret.js';

export interface ApiKeyPrincipal {
  userId: string;
  roles: string[];
  scopes: string[];
  apiKeyId: string;
  /** How long the gateway may trust this answer without asking again. */
  cacheTtlSeconds: number;
}

export interface AuthenticateApiKeyDeps {
  apiKeys: ApiKeyStore;
  /** API_KEY_CACHE_TTL_SECONDS. */
  cacheTtlSeconds: number;
  now?: () => Date;
}

// Compared against when no key has the prefix, so a miss costs the same hash work as a wrong secret.
const DECOY_HASH = hashApiKey('tek_00000000_decoy');

/**
 * Resolves a presented key to the principal it acts for. Malformed, unknown, wrong, revoked and
 * expired keys all get the same UNAUTHENTICATED (no oracle for which part was wrong). The key's
 * scopes are intersected with what the owner's roles grant today, so a demoted owner's keys lose the
 * scopes too. The answer may be cached for API_KEY_CACHE_TTL_SECONDS, never past the key's expiry.
 */
export async function authenticateApiKey(
  secret: string,
  deps: AuthenticateApiKeyDeps,
): Promise<ApiKeyPrincipal> {
  const now = deps.now?.() ?? new Date();
  const prefix = apiKeyPrefix(secret);
  const stored = prefix ? await deps.apiKeys.findByPrefix(prefix) : undefined;
  const matches = apiKeyMatches(secret, stored?.secretHash ?? DECOY_HASH) && stored !== undefined;
  if (!stored || !matches || stored.revokedAt || (stored.expiresAt && stored.expiresAt <= now))
    throw invalidApiKey();

  await deps.apiKeys.touchLastUsed(
    stored.id,
    now,
    new Date(now.getTime() - API_KEY_LIMITS.lastUsedWriteIntervalMs),
  );
  const ownerScopes = new Set<string>(scopesForRoles(stored.ownerRoles));
  const untilExpiry = stored.expiresAt
    ? Math.floor((stored.expiresAt.getTime() - now.getTime()) / 1000)
    : Number.POSITIVE_INFINITY;
  return {
    userId: stored.userId,
    roles: stored.ownerRoles,
    scopes: stored.scopes.filter((scope) => ownerScopes.has(scope)),
    apiKeyId: stored.id,
    cacheTtlSeconds: Math.max(0, Math.min(deps.cacheTtlSeconds, untilExpiry)),
  };
}

export function invalidApiKey(): AppError {
  return new AppError('UNAUTHENTICATED', 'Invalid API key');
}
