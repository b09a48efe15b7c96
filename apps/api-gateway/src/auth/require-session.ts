import type { RequestHandler } from 'express';
import { AppError, type Principal } from '@te/platform';

/**
 * After requireAuth: admits only callers that authenticated with a session's access token. Ending
 * sessions and changing the password act on sign-in sessions; an API key has none, and a leaked key
 * must not be able to sign its owner out or take over the account's password (OWASP ASVS V3/V2).
 */
export function requireSession(): RequestHandler {
  return (_req, res, next) => {
    const principal = res.locals.principal as Principal | undefined;
    if (!principal?.sessionId) {
      throw new AppError(
        'FORBIDDEN',
        'This action needs a signed-in session (an access token), not an API key',
      );
    }
    next();
  };
}
