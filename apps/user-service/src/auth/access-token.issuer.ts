import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { scopesForRoles } from '@te/platform';
import type { AccessToken, TokenIssuer } from '../domain/ports.js';
import type { User } from '../domain/user.js';
import type { SigningKey } from './signing-key.js';

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** `typ` of JWT access tokens (RFC 9068 §2.1), checked by the gateway so no other JWT passes as one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Where the signing key comes from: the key ring (the newest active key at the moment of signing). */
export interface SigningKeySource {
  signingKey(): Promise<SigningKey>;
}

export class JwtAccessTokenIssuer implements TokenIssuer {
  constructor(
    private readonly keys: SigningKeySource,
    private readonly settings: AccessTokenSettings,
  ) {}

  /**
   * RFC 9068 claims (iss, aud, sub, exp, iat, jti) plus `sid`, the session the token belongs to, so
   * the gateway can refuse every token of a session that was revoked before the token expires.
   */
  async issueAccessToken(user: User, sessionId: string): Promise<AccessToken> {
    const key = await this.keys.signingKey();
    // A first-party session holds every scope of the user's roles; API keys carry narrower sets.
    const scope = scopesForRoles(user.roles).join(' ');
    const token = jwt.sign({ roles: user.roles, scope, sid: sessionId }, key.privateKey, {
      algorithm: key.alg,
      keyid: key.kid,
      header: { alg: key.alg, typ: ACCESS_TOKEN_TYPE },
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: user.id,
      jwtid: randomUUID(),
      expiresIn: this.settings.ttlSeconds,
    });
    return { token, tokenType: 'Bearer', expiresIn: this.settings.ttlSeconds };
  }
}
