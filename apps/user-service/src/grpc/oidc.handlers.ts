import type { AsyncHandlers, teUserV1 } from '@te/grpc';
import { completeOidcLogin, startOidcLogin, type OidcLoginDeps } from '../domain/oidc-login.use-case.js';
import type { SessionTokens } from '../domain/ports.js';
import { accessTokenMessage, userMessage } from './messages.js';

type OidcServiceHandlers = AsyncHandlers<teUserV1.OidcServiceHandlers>;

/** te.user.v1.OidcService: sign-in with the configured OpenID Providers. */
export function oidcHandlers(deps: OidcLoginDeps): OidcServiceHandlers {
  return {
    async ListProviders() {
      return { providers: [...deps.relyingParty.providerIds] };
    },

    async StartLogin(request) {
      return startOidcLogin(request.provider, deps);
    },

    async CompleteLogin(request) {
      const { user, session, created } = await completeOidcLogin(
        {
          provider: request.provider,
          callbackUrl: request.callbackUrl,
          browserBinding: request.browserBinding,
        },
        deps,
      );
      return { user: userMessage(user), session: sessionMessage(session), created };
    },
  };
}

function sessionMessage(session: SessionTokens): teUserV1.Session {
  return {
    id: session.sessionId,
    accessToken: accessTokenMessage(session.accessToken),
    refreshToken: session.refreshToken,
    refreshTokenExpiresIn: session.refreshTokenExpiresIn,
  };
}
