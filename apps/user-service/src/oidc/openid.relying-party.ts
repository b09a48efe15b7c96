import * as client from 'openid-client';
import { AppError, type Logger } from '@te/platform';
import type { OidcAttempt, OidcClaims, OidcRelyingParty } from '../domain/oidc-login.use-case.js';
import { redirectUriFor } from './oidc-config.js';
import type { OidcDiscoveryCache } from './oidc-discovery.cache.js';

/**
 * The relying-party side of the authorization code flow, on openid-client (certified RP library):
 * PKCE S256, state, nonce, the RFC 9207 `iss` response parameter when the provider sends it, and ID
 * token validation (signature with the provider's JWKS and its registered algorithm, iss, aud, azp,
 * exp, iat, nonce) — the checks RFC 9700 §2.1 and OIDC Core §3.1.3.7 require.
 */
export class OpenIdRelyingParty implements OidcRelyingParty {
  readonly providerIds: readonly string[];

  constructor(
    private readonly discovery: OidcDiscoveryCache,
    providerIds: readonly string[],
    private readonly redirectBaseUrl: string,
    private readonly logger: Logger,
  ) {
    this.providerIds = providerIds;
  }

  async authorizationUrl(provider: string, attempt: OidcAttempt): Promise<string> {
    const config = await this.discovery.get(provider);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUriFor(this.redirectBaseUrl, provider),
      scope: this.discovery.settings(provider).scopes.join(' '),
      state: attempt.state,
      nonce: attempt.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(attempt.codeVerifier),
      code_challenge_method: 'S256',
    });
    return url.href;
  }

  async redeem(provider: string, callback: URLSearchParams, attempt: OidcAttempt): Promise<OidcClaims> {
    const config = await this.discovery.get(provider);
    // The redirect URI sent to the token endpoint is the configured one (exact match, RFC 9700 §4.1),
    // never derived from the URL the caller reports; only the response parameters are taken from it.
    const currentUrl = new URL(redirectUriFor(this.redirectBaseUrl, provider));
    currentUrl.search = callback.toString();
    try {
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: attempt.codeVerifier,
        expectedState: attempt.state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      if (!idToken) throw new AppError('UNAUTHENTICATED', 'The provider returned no ID token');
      if (typeof idToken.email === 'string') return toClaims(idToken);
      // Providers may keep email and profile claims out of the ID token (OIDC Core §5.4); userinfo
      // has them. openid-client checks that its `sub` is the ID token's (OIDC Core §5.3.2).
      if (!config.serverMetadata().userinfo_endpoint) return toClaims(idToken);
      const userInfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
      return { ...toClaims(userInfo), name: stringClaim(idToken.name) ?? stringClaim(userInfo.name) };
    } catch (error) {
      throw this.rejected(provider, error);
    }
  }

  private rejected(provider: string, error: unknown): AppError {
    if (error instanceof AppError) return error;
    const code = (error as { code?: unknown }).code;
    // No token, code or claim value in this line: openid-client's messages name the failed check only.
    this.logger.warn('oidc sign-in rejected', {
      provider,
      error_name: (error as Error).name,
      error_code: code,
      oauth_error: (error as { error?: unknown }).error,
      error_message: (error as Error).message,
    });
    const unreachable =
      code === 'OAUTH_TIMEOUT' ||
      code === 'OAUTH_ABORT' ||
      (error instanceof TypeError && error.message === 'fetch failed');
    return unreachable
      ? new AppError('UNAVAILABLE', 'The sign-in provider cannot be reached; try again later', {
          cause: error,
        })
      : new AppError('UNAUTHENTICATED', "The provider's response could not be verified; start again", {
          cause: error,
        });
  }
}

function toClaims(claims: {
  sub: string;
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
}): OidcClaims {
  return {
    subject: claims.sub,
    email: stringClaim(claims.email),
    // Only a JSON boolean true counts as verified; "true" strings and absent claims do not.
    emailVerified: claims.email_verified === true,
    name: stringClaim(claims.name),
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
