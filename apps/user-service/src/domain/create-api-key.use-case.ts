import { AppError, scopesForRoles } from '@te/platform';
import { ApiKeyPrefixTaken, API_KEY_LIMITS, type ApiKey, type ApiKeyStore } from './api-key.js';
import { validateApiKeyRequest, type ApiKeyRequest } from './api-key.policy.js';
import { generateApiKey } from './api-key.secret.js';
import type { UserStore } from './ports.js';
import type { SecurityAudit } from './security-audit.js';

export interface CreateApiKeyInput extends ApiKeyRequest {
  /** The authenticated caller (the owner of the new key). */
  userId: string;
  /** The scopes of the credential making the request (a session holds all of its roles' scopes). */
  callerScopes: string[];
  /** Set when the request itself was made with an API key (recorded in the audit log). */
  callerApiKeyId?: string;
}

export interface CreateApiKeyDeps {
  apiKeys: ApiKeyStore;
  users: UserStore;
  audit: SecurityAudit;
  now?: () => Date;
}

// A 40-bit public id collides rarely; a few fresh draws make a collision invisible to the caller.
const PREFIX_ATTEMPTS = 3;

/**
 * Creates a key for the caller and returns its secret, the only time it is ever available. Grantable
 * scopes are the owner's (from their current roles, not from the token) that the calling credential
 * also holds, so a key with `api_keys:write` cannot mint a key broader than itself.
 */
export async function createApiKey(
  input: CreateApiKeyInput,
  deps: CreateApiKeyDeps,
): Promise<{ apiKey: ApiKey; secret: string }> {
  const now = deps.now?.() ?? new Date();
  const owner = await deps.users.findById(input.userId);
  if (!owner) throw new AppError('UNAUTHENTICATED', 'The account of this credential no longer exists');
  const callerScopes = new Set(input.callerScopes);
  const grantable = new Set(scopesForRoles(owner.roles).filter((scope) => callerScopes.has(scope)));
  const request = validateApiKeyRequest(input, grantable, now);

  // A soft bound (two concurrent creations may both pass the count): it limits storage, not security.
  if ((await deps.apiKeys.countActive(owner.id, now)) >= API_KEY_LIMITS.maxActiveKeysPerUser)
    throw new AppError(
      'CONFLICT',
      `An account can have at most ${API_KEY_LIMITS.maxActiveKeysPerUser} active API keys; revoke one first`,
    );

  for (let attempt = 1; ; attempt++) {
    const generated = generateApiKey();
    try {
      const apiKey = await deps.apiKeys.create({
        userId: owner.id,
        name: request.name,
        prefix: generated.prefix,
        secretHash: generated.hash,
        scopes: request.scopes,
        expiresAt: request.expiresAt,
      });
      await deps.audit.record({
        userId: owner.id,
        type: 'api_key_created',
        details: {
          api_key_id: apiKey.id,
          prefix: apiKey.prefix,
          name: apiKey.name,
          scopes: apiKey.scopes,
          expires_at: apiKey.expiresAt?.toISOString() ?? null,
          ...(input.callerApiKeyId ? { created_with_api_key_id: input.callerApiKeyId } : {}),
        },
      });
      return { apiKey, secret: generated.key };
    } catch (error) {
      if (!(error instanceof ApiKeyPrefixTaken) || attempt >= PREFIX_ATTEMPTS) throw error;
    }
  }
}
