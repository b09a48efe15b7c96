import { Router } from 'express';
import { z } from 'zod';
import { AppError, SCOPES } from '@te/platform';
import type { ApiKeyCache } from '../auth/api-key.cache.js';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody } from '../http/validate.js';
import { presentApiKey } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { apiKeySchema, uuidPath } from '../openapi/schemas.js';

// Types and sizes only; user-service applies the rules (name 1–100 characters, known scopes you hold,
// expiry in the future and at most 365 days ahead) and names every bad field. `.strict()`: a body
// cannot set what the server owns (id, user_id, prefix, secret, created_at, last_used_at, ...).
const createBody = z
  .object({
    name: z
      .string()
      .max(400)
      .refine((value) => value.isWellFormed(), { message: 'must be valid Unicode text' }),
    scopes: z.array(z.string().max(100)).max(50),
    expires_at: z.string().max(64).nullish(),
  })
  .strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * /api/v1/api-keys: the caller's personal API keys. POST returns the secret once (never again: only
 * its hash is stored); DELETE revokes and answers 204 (no content, hence no envelope), and evicts the
 * key from this gateway's cache at once.
 */
export function apiKeyRoutes(users: UserServiceClient, requireAuth: RequireAuth, cache: ApiKeyCache): Router {
  const router = Router();

  router.post(
    '/',
    operation({
      tag: 'apiKeys',
      summary: 'Create an API key',
      description:
        'The secret is in this answer only (only its hash is stored). Scopes must be ones you hold.',
      body: createBody,
      responses: {
        201: {
          description: 'The key and its secret',
          data: z.object({ api_key: apiKeySchema, secret: z.string().describe('`tek_…`, shown once') }),
        },
      },
    }),
    requireAuth(SCOPES.apiKeysWrite),
    validateBody(createBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof createBody>;
      const created = await users.apiKeys.create({
        name: input.name,
        scopes: input.scopes,
        expiresAt: input.expires_at ?? '',
      });
      // RFC 9700 / OWASP: a response carrying a credential must never be stored by any cache.
      res.setHeader('Cache-Control', 'no-store');
      sendData(res, 201, { api_key: presentApiKey(created.apiKey), secret: created.secret });
    },
  );

  router.get(
    '/',
    operation({
      tag: 'apiKeys',
      summary: 'List your API keys',
      responses: {
        200: {
          description: 'Your keys (never a secret)',
          data: z.object({ api_keys: z.array(apiKeySchema) }),
        },
      },
    }),
    requireAuth(SCOPES.apiKeysRead),
    async (_req, res) => {
      const { apiKeys } = await users.apiKeys.list();
      sendData(res, 200, { api_keys: (apiKeys ?? []).map(presentApiKey) });
    },
  );

  router.delete(
    '/:id',
    operation({
      tag: 'apiKeys',
      summary: 'Revoke an API key',
      params: { id: uuidPath },
      responses: { 204: { description: 'Revoked' } },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    requireAuth(SCOPES.apiKeysWrite),
    async (req, res) => {
      const id = String(req.params['id']);
      if (!UUID.test(id))
        throw new AppError('VALIDATION_FAILED', 'API key id is invalid', {
          fields: [{ field: 'id', message: 'must be a UUID' }],
        });
      await users.apiKeys.revoke(id);
      cache.evictKey(id.toLowerCase());
      res.status(204).end();
    },
  );

  return router;
}
