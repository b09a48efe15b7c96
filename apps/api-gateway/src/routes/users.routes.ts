import { Router } from 'express';
import { z } from 'zod';
import { SCOPES, type Logger } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import { requireSession } from '../auth/require-session.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody } from '../http/validate.js';
import { presentUser } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { userSchema } from '../openapi/schemas.js';

// Types and sizes only: the rules (name as at registration, a well-formed BCP 47 locale, preferences a
// JSON object of at most 16 KiB and 4 levels) live in user-service, which names every bad field at once.
// `.strict()`: id, email, roles, created_at and anything else the server owns are refused by name.
const profileBody = z
  .object({
    name: z
      .string()
      .max(400)
      .refine((value) => value.isWellFormed(), { message: 'must be valid Unicode text' })
      .optional(),
    locale: z.string().max(64).optional(),
    // z.custom keeps the object as sent (a record schema would rebuild it, and lose a "__proto__" key).
    preferences: z
      .custom<Record<string, unknown>>(
        (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
        { message: 'must be a JSON object' },
      )
      .optional(),
  })
  .strict();

export interface UserRoutesDeps {
  users: UserServiceClient;
  requireAuth: RequireAuth;
  /** Stops the access tokens of the given sessions at once (they would otherwise live until `exp`). */
  revokeSessions(sessionIds: string[]): Promise<void>;
  /** Drops API keys from this gateway's cache at once. */
  evictApiKeys(apiKeyIds: string[]): void;
  logger: Logger;
}

/** /api/v1/users/me: the caller's own account. */
export function userRoutes(deps: UserRoutesDeps): Router {
  const { users, requireAuth } = deps;
  const router = Router();

  router.get(
    '/me',
    operation({
      tag: 'account',
      summary: 'Read your profile',
      responses: { 200: { description: 'The caller', data: z.object({ user: userSchema }) } },
    }),
    requireAuth(SCOPES.profileRead),
    async (_req, res) => {
      const { user } = await users.getMe();
      sendData(res, 200, { user: presentUser(user) });
    },
  );

  // PATCH semantics (RFC 5789): only the members present change; `preferences` replaces the stored object.
  router.patch(
    '/me',
    operation({
      tag: 'account',
      summary: 'Change your name, locale or preferences',
      description:
        'Only the members present change; `preferences` replaces the stored object. Server-owned fields are refused by name.',
      body: profileBody,
      responses: { 200: { description: 'The updated profile', data: z.object({ user: userSchema }) } },
    }),
    requireAuth(SCOPES.profileWrite),
    validateBody(profileBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof profileBody>;
      const { user } = await users.updateProfile({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.locale !== undefined && { locale: input.locale }),
        ...(input.preferences !== undefined && { preferencesJson: JSON.stringify(input.preferences) }),
      });
      sendData(res, 200, { user: presentUser(user) });
    },
  );

  // Deletes the account (user-service publishes user.deleted so every service erases its data) and
  // ends its credentials here at once: the sessions' access tokens are refused from the next request,
  // the cached API keys are dropped. Only a signed-in session may do it, never an API key (checked
  // here and again in user-service). 204, no content (as other DELETEs of the API).
  router.delete(
    '/me',
    operation({
      tag: 'account',
      summary: 'Delete your account',
      description: 'Every session and API key ends at once; every service erases the account’s data.',
      sessionOnly: true,
      responses: { 204: { description: 'Deleted' } },
    }),
    requireAuth(SCOPES.profileWrite),
    requireSession(),
    async (_req, res) => {
      const { revokedSessionIds, revokedApiKeyIds } = await users.deleteAccount();
      deps.evictApiKeys(revokedApiKeyIds ?? []);
      try {
        await deps.revokeSessions(revokedSessionIds ?? []);
      } catch (error) {
        // The account is gone already, so the client has nothing to retry. The session.revoked event
        // user-service wrote in the deleting transaction marks the sessions through every gateway's
        // consumer once Redis answers again; until then token checks fail closed (503).
        deps.logger.error('sessions of a deleted account could not be marked revoked', {
          sessions: revokedSessionIds?.length ?? 0,
          err: error,
        });
      }
      res.status(204).end();
    },
  );

  return router;
}
