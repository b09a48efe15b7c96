import { AppError } from '@te/platform';
import type { ApiKeyStore } from './api-key.js';
import type { SecurityAudit } from './security-audit.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Revokes one of the caller's keys. Another user's key, an unknown id and an already revoked key are
 * the same NOT_FOUND: whether a key id exists elsewhere is none of the caller's business (OWASP
 * Authorization cheat sheet, IDOR). The store revokes with one conditional UPDATE scoped to the owner.
 */
export async function revokeApiKey(
  input: { userId: string; id: string; callerApiKeyId?: string },
  deps: { apiKeys: ApiKeyStore; audit: SecurityAudit; now?: () => Date },
): Promise<void> {
  if (!UUID.test(input.id))
    throw new AppError('VALIDATION_FAILED', 'API key id is invalid', {
      fields: [{ field: 'id', message: 'must be a UUID' }],
    });
  const revoked = await deps.apiKeys.revoke(input.userId, input.id.toLowerCase(), deps.now?.() ?? new Date());
  if (!revoked) throw new AppError('NOT_FOUND', 'API key not found');
  await deps.audit.record({
    userId: input.userId,
    type: 'api_key_revoked',
    details: {
      api_key_id: revoked.id,
      prefix: revoked.prefix,
      name: revoked.name,
      ...(input.callerApiKeyId ? { revoked_with_api_key_id: input.callerApiKeyId } : {}),
    },
  });
}
