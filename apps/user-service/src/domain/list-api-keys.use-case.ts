import type { ApiKey, ApiKeyStore } from './api-key.js';

/** The caller's active keys (not revoked, not expired), newest first. Never their secrets or hashes. */
export function listApiKeys(
  userId: string,
  deps: { apiKeys: ApiKeyStore; now?: () => Date },
): Promise<ApiKey[]> {
  return deps.apiKeys.listActive(userId, deps.now?.() ?? new Date());
}
