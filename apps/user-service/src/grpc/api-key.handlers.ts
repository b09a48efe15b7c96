import type { AsyncHandlers, CallContext, teUserV1 } from '@te/grpc';
import type { ApiKey, ApiKeyStore } from '../domain/api-key.js';
import { authenticateApiKey } from '../domain/authenticate-api-key.use-case.js';
import { createApiKey } from '../domain/create-api-key.use-case.js';
import { listApiKeys } from '../domain/list-api-keys.use-case.js';
import type { UserStore } from '../domain/ports.js';
import { revokeApiKey } from '../domain/revoke-api-key.use-case.js';
import type { SecurityAudit } from '../domain/security-audit.js';
import { callerId } from './profile.handlers.js';

export interface ApiKeyHandlerDeps {
  apiKeys: ApiKeyStore;
  users: UserStore;
  audit: SecurityAudit;
  /** API_KEY_CACHE_TTL_SECONDS: how long the gateway may cache a resolved key. */
  cacheTtlSeconds: number;
}

/**
 * te.user.v1.ApiKeyService. Create, List and Revoke act on the authenticated caller only (the user
 * id comes from the principal, never from the request); AuthenticateApiKey is the gateway's lookup
 * of a presented key, made before there is a principal.
 */
export function apiKeyHandlers(deps: ApiKeyHandlerDeps): AsyncHandlers<teUserV1.ApiKeyServiceHandlers> {
  return {
    async CreateApiKey(request, ctx) {
      const { apiKey, secret } = await createApiKey(
        {
          userId: callerId(ctx),
          callerScopes: ctx.principal?.scopes ?? [],
          callerApiKeyId: callerApiKeyId(ctx),
          name: request.name,
          scopes: request.scopes,
          expiresAt: request.expiresAt,
        },
        deps,
      );
      return { apiKey: apiKeyMessage(apiKey), secret };
    },

    async ListApiKeys(_request, ctx) {
      return { apiKeys: (await listApiKeys(callerId(ctx), deps)).map(apiKeyMessage) };
    },

    async RevokeApiKey(request, ctx) {
      await revokeApiKey(
        { userId: callerId(ctx), id: request.id, callerApiKeyId: callerApiKeyId(ctx) },
        deps,
      );
      return {};
    },

    async AuthenticateApiKey(request) {
      const principal = await authenticateApiKey(request.secret, deps);
      return {
        userId: principal.userId,
        roles: principal.roles,
        scopes: principal.scopes,
        apiKeyId: principal.apiKeyId,
        cacheTtlSeconds: principal.cacheTtlSeconds,
      };
    },
  };
}

/** The wire form of a key (never its hash; the secret only in CreateApiKeyResponse). */
function apiKeyMessage(key: ApiKey): teUserV1.ApiKey {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? '',
    lastUsedAt: key.lastUsedAt?.toISOString() ?? '',
  };
}

function callerApiKeyId(ctx: CallContext): string | undefined {
  return ctx.principal?.authMethod === 'api_key' ? ctx.principal.apiKeyId : undefined;
}
