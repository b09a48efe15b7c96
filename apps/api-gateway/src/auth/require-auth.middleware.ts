import type { RequestHandler } from 'express';
import { Passport, type Strategy } from 'passport';
import { AppError, getRequestContext, type Principal, type Scope } from '@te/platform';

/** A passport strategy and the name it is registered under ('jwt', 'api-key'). */
export type NamedStrategy = [name: string, strategy: Strategy];

/** `requireAuth(...scopes)`: a middleware that admits a request authenticated with every listed scope. */
export type RequireAuth = (...scopes: Scope[]) => RequestHandler;

/**
 * Authentication and scope checks for routes. Strategies are tried in order (passport's
 * multi-strategy `authenticate([...])`): the first that authenticates wins; when none does, the answer
 * is one 401 whose reason is not the client's business. An authenticated caller without a required
 * scope gets 403 `insufficient_scope` (RFC 6750 §3.1). The principal goes into the request context,
 * so logs and every downstream gRPC call carry it. A Passport instance per app (not the global one)
 * keeps several gateways in one process independent.
 */
export function createRequireAuth(strategies: NamedStrategy[]): RequireAuth {
  const authenticator = new Passport();
  for (const [name, strategy] of strategies) authenticator.use(name, strategy);
  const names = strategies.map(([name]) => name);

  return (...scopes) =>
    (req, res, next) => {
      authenticator.authenticate(
        names,
        { session: false },
        (error: unknown, principal: Principal | false) => {
          // A dependency failing while checking a credential is an outage, not a bad credential.
          if (error instanceof AppError && error.httpStatus >= 500) return next(error);
          if (error || !principal) {
            return next(new AppError('UNAUTHENTICATED', 'A valid access token or API key is required'));
          }
          const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
          if (missing.length) {
            res.setHeader(
              'WWW-Authenticate',
              `Bearer error="insufficient_scope", scope="${missing.join(' ')}"`,
            );
            return next(new AppError('FORBIDDEN', `This credential lacks the scope: ${missing.join(', ')}`));
          }
          const context = getRequestContext();
          if (context) context.principal = principal;
          res.locals.principal = principal;
          next();
        },
      )(req, res, next);
    };
}
