import type { CookieOptions, Request, RequestHandler } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '@te/platform';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { presentSession } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { signedInSchema } from '../openapi/schemas.js';

// Provider ids as user-service accepts them (src/oidc/oidc-config.ts): short lower-case tokens.
const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;
// Authorization responses are a code, a state and a few short parameters; anything longer is not one.
const MAX_CALLBACK_URL_LENGTH = 4096;
/**
 * The attempt's browser binding: set on the redirect to the provider, required on the callback, so a
 * state can only be redeemed by the browser that started the sign-in (RFC 9700 §2.1 and §4.7.1: state
 * bound to the user agent; a leaked or planted callback URL is useless elsewhere). HttpOnly, scoped to
 * this provider's callback path, SameSite=Lax so that it survives the top-level redirect back from
 * the provider, and no longer-lived than the attempt (10 minutes).
 */
const BINDING_COOKIE = 'te_oidc_binding';
const ATTEMPT_TTL_MS = 600_000;

/**
 * Sign-in with OpenID Providers. Browsers are sent to /start, come back to /callback from the
 * provider, and get the same session as a password login. The protocol work is user-service's.
 */
export function oidcRoutes(users: UserServiceClient): Router {
  const router = Router();

  router.get(
    '/providers',
    operation({
      tag: 'auth',
      summary: 'The OpenID Providers you may sign in with',
      responses: {
        200: {
          description: 'Configured providers',
          data: z.object({ providers: z.array(z.object({ id: z.string() })) }),
        },
      },
    }),
    async (_req, res) => {
      const { providers } = await users.oidc.listProviders();
      sendData(res, 200, { providers: (providers ?? []).map((id) => ({ id })) });
    },
  );

  router.get(
    '/:provider/start',
    operation({
      tag: 'auth',
      summary: 'Start signing in with an OpenID Provider (browser)',
      description:
        'Redirects the browser to the provider (code flow with PKCE, state and nonce) and sets a short-lived binding cookie.',
      params: { provider: z.string().regex(PROVIDER_ID).describe('A configured provider id') },
      responses: {
        302: { description: 'To the provider', headers: { Location: 'The provider’s authorization URL' } },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    validProvider(),
    async (req, res) => {
      const provider = String(req.params.provider);
      const { authorizationUrl, browserBinding } = await users.oidc.startLogin(provider);
      res.cookie(BINDING_COOKIE, browserBinding, { ...cookieOptions(req, provider), maxAge: ATTEMPT_TTL_MS });
      // A redirect, not an envelope: the browser must go to the provider (and nothing may cache it).
      res.redirect(302, authorizationUrl);
    },
  );

  router.get(
    '/:provider/callback',
    operation({
      tag: 'auth',
      summary: 'Where the provider sends the browser back',
      description:
        'Needs the binding cookie set by /start. 403 when the provider has not verified the email.',
      params: { provider: z.string().regex(PROVIDER_ID).describe('A configured provider id') },
      responses: { 200: { description: 'Signed in', data: signedInSchema } },
      errors: ['VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'],
    }),
    validProvider(),
    async (req, res) => {
      const provider = String(req.params.provider);
      if (req.originalUrl.length > MAX_CALLBACK_URL_LENGTH) {
        throw new AppError('VALIDATION_FAILED', 'The callback is too long', {
          fields: [{ field: 'query', message: `must be at most ${MAX_CALLBACK_URL_LENGTH} characters` }],
        });
      }
      const browserBinding = readCookie(req, BINDING_COOKIE) ?? '';
      // Single use whatever the outcome (the attempt is spent in user-service too).
      res.clearCookie(BINDING_COOKIE, cookieOptions(req, provider));
      // Only the query matters to user-service; it sends its configured redirect URI to the provider.
      const callbackUrl = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`;
      const { user, session } = await users.oidc.completeLogin({ provider, callbackUrl, browserBinding });
      res.setHeader('Pragma', 'no-cache'); // tokens: no-store (set for all of /api) and no-cache, RFC 6749 §5.1
      sendData(res, 200, presentSession({ user, accessToken: session?.accessToken, session }));
    },
  );

  return router;
}

function validProvider(): RequestHandler {
  return (req, _res, next) => {
    if (!PROVIDER_ID.test(String(req.params.provider))) {
      throw new AppError('VALIDATION_FAILED', 'The provider is invalid', {
        fields: [{ field: 'provider', message: 'must be a provider id (a-z, 0-9, "-"; at most 32)' }],
      });
    }
    next();
  };
}

function cookieOptions(req: Request, provider: string): CookieOptions {
  return {
    httpOnly: true,
    // Secure whenever the browser talks https to us (behind a trusted proxy, req.secure follows it).
    secure: req.secure,
    sameSite: 'lax',
    path: `${req.baseUrl}/${provider}/callback`,
  };
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
