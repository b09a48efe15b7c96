import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
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

/** Default scopes granted to a first-party session; finer scopes come with API keys and OAuth clients. */
const SESSION_SCOPES = ['profile', 'explain'];

export class JwtAccessTokenIssuer implements TokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly settings: AccessTokenSettings,
  ) {}

  async issueAccessToken(user: User): Promise<AccessToken> {
    const token = jwt.sign({ roles: user.roles, scope: SESSION_SCOPES.join(' ') }, this.key.privateKey, {
      algorithm: this.key.alg,
      keyid: this.key.kid,
      header: { alg: this.key.alg, typ: ACCESS_TOKEN_TYPE },
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: user.id,
      jwtid: randomUUID(),
      expiresIn: this.settings.ttlSeconds,
    });
    return { token, tokenType: 'Bearer', expiresIn: this.settings.ttlSeconds };
  }
}
