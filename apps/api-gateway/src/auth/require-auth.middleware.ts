import type { RequestHandler } from 'express';
import { Passport } from 'passport';
import type { Strategy } from 'passport-jwt';
import { AppError, getRequestContext, type Principal } from '@te/platform';

const JWT_STRATEGY = 'jwt';

/**
 * Requires a valid access token. The principal goes into the request context, so logs and every
 * downstream gRPC call carry it. All failures are the same 401: the reason is not a client's business.
 * A Passport instance per app (not the global one) keeps several gateways in one process independent.
 */
export function requireAuth(strategy: Strategy): RequestHandler {
  const authenticator = new Passport();
  authenticator.use(JWT_STRATEGY, strategy);
  return (req, res, next) => {
    authenticator.authenticate(
      JWT_STRATEGY,
      { session: false },
      (error: unknown, principal: Principal | false) => {
        if (error || !principal) {
          return next(new AppError('UNAUTHENTICATED', 'A valid access token is required'));
        }
        const context = getRequestContext();
        if (context) context.principal = principal;
        res.locals.principal = principal;
        next();
      },
    )(req, res, next);
  };
}
