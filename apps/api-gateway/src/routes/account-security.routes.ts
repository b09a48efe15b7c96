import { Router } from 'express';
import { z } from 'zod';
import { AppError, SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import { requireSession } from '../auth/require-session.js';
import type { SessionRevocations } from '../auth/session-revocations.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody } from '../http/validate.js';
import { validateQuery, validatedQuery } from '../http/validate-query.js';
import { presentSecurityEvent } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { nextPageToken, revokedSessionsSchema, securityEventSchema } from '../openapi/schemas.js';

const passwordText = z
  .string()
  .max(1024)
  .refine((value) => value.isWellFormed(), { message: 'must be valid Unicode text' });

const changePasswordBody = z.object({ current_password: passwordText, new_password: passwordText }).strict();

const securityEventsQuery = z
  .object({
    page_size: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
      .transform(Number)
      .refine((size) => size >= 1 && size <= 100, 'must be a whole number from 1 to 100')
      .optional(),
    page_token: z.string().max(512).optional(),
  })
  .strict();

export interface AccountSecurityRouteDeps {
  users: UserServiceClient;
  requireAuth: RequireAuth;
  revocations: SessionRevocations;
}

/** /api/v1/users/me: the caller's password and security log. */
export function accountSecurityRoutes(deps: AccountSecurityRouteDeps): Router {
  const { users, requireAuth, revocations } = deps;
  const router = Router();

  // Re-authentication with the current password (user-service throttles the guesses); every other
  // session ends, and its access tokens stop here at once.
  router.post(
    '/me/password',
    operation({
      tag: 'account',
      summary: 'Change your password',
      description: 'Every other session ends. A wrong current password is a 403 naming `current_password`.',
      sessionOnly: true,
      body: changePasswordBody,
      responses: { 200: { description: 'The other sessions ended', data: revokedSessionsSchema } },
    }),
    requireAuth(SCOPES.profileWrite),
    requireSession(),
    validateBody(changePasswordBody),
    async (req, res) => {
      const body = req.body as z.infer<typeof changePasswordBody>;
      const { revokedSessionIds } = await users
        .changePassword({ currentPassword: body.current_password, newPassword: body.new_password })
        .catch((error: unknown) => {
          // The access token is fine (a 401 would tell the client to sign in again): the password is not.
          if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
            throw new AppError('FORBIDDEN', 'The current password is incorrect', {
              fields: [{ field: 'current_password', message: 'is incorrect' }],
            });
          }
          throw error;
        });
      await revocations.revoke(revokedSessionIds);
      sendData(res, 200, { revoked_session_ids: revokedSessionIds });
    },
  );

  router.get(
    '/me/security-events',
    operation({
      tag: 'account',
      summary: 'Your security log, newest first',
      query: securityEventsQuery,
      responses: {
        200: {
          description: 'One page of events',
          data: z.object({ events: z.array(securityEventSchema), next_page_token: nextPageToken }),
        },
      },
    }),
    requireAuth(SCOPES.securityRead),
    validateQuery(securityEventsQuery),
    async (_req, res) => {
      const query = validatedQuery(res, securityEventsQuery);
      const page = await users.listSecurityEvents({
        pageSize: query.page_size ?? 0,
        pageToken: query.page_token ?? '',
      });
      sendData(res, 200, {
        events: page.events.map(presentSecurityEvent),
        next_page_token: page.nextPageToken || null,
      });
    },
  );

  return router;
}
