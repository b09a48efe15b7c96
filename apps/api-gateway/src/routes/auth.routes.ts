import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Principal } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import { requireSession } from '../auth/require-session.js';
import type { SessionRevocations } from '../auth/session-revocations.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody, unicodeText, noBody } from '../http/validate.js';
import { presentSession } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { revokedSessionsSchema, signedInSchema } from '../openapi/schemas.js';

// Types and sizes only: the email rules and password policy live in user-service, which reports every
// offending field at once as the same 400 (so a client never fixes one field per round trip).
// Lone UTF-16 surrogates would silently become U+FFFD on the way to user-service.
const text = unicodeText;

const registerBody = z.object({ email: text(320), password: text(1024), name: text(400) }).strict();

const loginBody = z.object({ email: text(320), password: text(1024) }).strict();

// Refresh tokens are `rt_` + 43 base64url characters; the bound only keeps junk away from user-service.
const refreshBody = z.object({ refresh_token: z.string().min(1).max(256) }).strict();

export interface AuthRouteDeps {
  users: UserServiceClient;
  requireAuth: RequireAuth;
  revocations: SessionRevocations;
}

/**
 * /api/v1/auth: sign-in (register, login), session refresh and logout. Answers that carry tokens are
 * never cached (RFC 6749 §5.1: `Cache-Control: no-store` for all of /api, plus `Pragma: no-cache`).
 * Logout and logout-all answer 200 with the ended session ids in the envelope (every answer of the API
 * is an envelope, so not 204).
 */
export function authRoutes(deps: AuthRouteDeps): Router {
  const { users, requireAuth, revocations } = deps;
  const router = Router();

  router.post(
    '/register',
    operation({
      tag: 'auth',
      summary: 'Create an account and sign in',
      description:
        'user-service applies the email rules and password policy and names every bad field at once.',
      body: registerBody,
      responses: { 201: { description: 'Registered and signed in', data: signedInSchema } },
      errors: ['CONFLICT'],
    }),
    validateBody(registerBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof registerBody>;
      sendTokens(res, 201, presentSession(await users.register(input)));
    },
  );

  router.post(
    '/login',
    operation({
      tag: 'auth',
      summary: 'Sign in with email and password',
      description: 'Too many failures (per account and per IP) answer 429 with `Retry-After`.',
      body: loginBody,
      responses: { 200: { description: 'Signed in', data: signedInSchema } },
    }),
    validateBody(loginBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof loginBody>;
      sendTokens(res, 200, presentSession(await users.login(input)));
    },
  );

  // The refresh token is the credential (RFC 6749 §6): no access token is needed, an expired one is
  // the usual reason to come here. A reused token is refused by user-service, which also revokes its
  // session (and announces it: the revocation list learns it through `session.revoked`).
  router.post(
    '/refresh',
    operation({
      tag: 'auth',
      summary: 'Exchange a refresh token for new tokens',
      description: 'Refresh tokens are single use: a reused one is refused and its whole session revoked.',
      body: refreshBody,
      responses: { 200: { description: 'New access and refresh tokens', data: signedInSchema } },
    }),
    validateBody(refreshBody),
    async (req, res) => {
      const { refresh_token: refreshToken } = req.body as z.infer<typeof refreshBody>;
      const { user, session } = await users.sessions.refresh(refreshToken);
      sendTokens(res, 200, presentSession({ user, accessToken: session?.accessToken, session }));
    },
  );

  router.post(
    '/logout',
    operation({
      tag: 'auth',
      summary: 'Sign out of this session',
      description: 'The access token stops at once. Takes no body (or `{}`).',
      sessionOnly: true,
      responses: { 200: { description: 'The sessions ended', data: revokedSessionsSchema } },
      errors: ['VALIDATION_FAILED'],
    }),
    requireAuth(),
    requireSession(),
    noBody(),
    async (_req, res) => {
      const { sessionId } = res.locals.principal as Principal & { sessionId: string };
      const { revokedSessionIds } = await users.sessions.logout(sessionId);
      // Marked even when user-service had already ended it (a retried logout): this token stops now.
      await revocations.revoke(unique([sessionId, ...revokedSessionIds]));
      sendData(res, 200, { revoked_session_ids: revokedSessionIds });
    },
  );

  router.post(
    '/logout-all',
    operation({
      tag: 'auth',
      summary: 'Sign out of every session of the account',
      description: 'Takes no body (or `{}`).',
      sessionOnly: true,
      responses: { 200: { description: 'The sessions ended', data: revokedSessionsSchema } },
      errors: ['VALIDATION_FAILED'],
    }),
    requireAuth(),
    requireSession(),
    noBody(),
    async (_req, res) => {
      const { sessionId } = res.locals.principal as Principal & { sessionId: string };
      const { revokedSessionIds } = await users.sessions.logoutAll();
      await revocations.revoke(unique([sessionId, ...revokedSessionIds]));
      sendData(res, 200, { revoked_session_ids: revokedSessionIds });
    },
  );

  return router;
}

function sendTokens(res: Response, status: number, body: ReturnType<typeof presentSession>): void {
  res.setHeader('Pragma', 'no-cache');
  sendData(res, status, body);
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
