import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { scopesForRoles } from '@te/platform';
import { ACCESS_TOKEN_TYPE, JwtAccessTokenIssuer } from './access-token.issuer.js';
import { exportPrivateKey, generateSigningKey, importPrivateKey, type SigningKey } from './signing-key.js';

const user = {
  id: '01a210a7-71f0-752a-8fc0-9f01dadc389a',
  email: 'ada@example.com',
  name: 'Ada',
  roles: ['user'],
  createdAt: new Date(),
  locale: 'en',
  preferences: {},
};
const sessionId = '01a210a7-71f0-752a-8fc0-9f01dadc0000';
const settings = { issuer: 'https://te.test', audience: 'te-api', ttlSeconds: 900 };
const fixed = (key: SigningKey) => ({ signingKey: async () => key });

describe('JwtAccessTokenIssuer', () => {
  it('When a token is issued, then it is an ES256 at+jwt with the RFC 9068 claims and the session id, verifiable with the published key', async () => {
    const key = generateSigningKey();
    const { token, tokenType, expiresIn } = await new JwtAccessTokenIssuer(
      fixed(key),
      settings,
    ).issueAccessToken(user, sessionId);
    expect(tokenType).toBe('Bearer');
    expect(expiresIn).toBe(900);

    const decoded = jwt.decode(token, { complete: true })!;
    expect(decoded.header).toEqual({ alg: 'ES256', typ: ACCESS_TOKEN_TYPE, kid: key.kid });
    const publicKey = createPublicKey({ key: key.publicJwk as unknown as JsonWebKey, format: 'jwk' });
    const claims = jwt.verify(token, publicKey, {
      algorithms: ['ES256'],
      issuer: settings.issuer,
      audience: settings.audience,
    }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: user.id, roles: ['user'], sid: sessionId });
    expect(String(claims.scope).split(' ')).toEqual(scopesForRoles(['user']));
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('When two tokens are issued, then their jti differ', async () => {
    const issuer = new JwtAccessTokenIssuer(fixed(generateSigningKey()), settings);
    const a = jwt.decode((await issuer.issueAccessToken(user, sessionId)).token) as jwt.JwtPayload;
    const b = jwt.decode((await issuer.issueAccessToken(user, sessionId)).token) as jwt.JwtPayload;
    expect(a.jti).not.toBe(b.jti);
  });

  it('When the key source changes key, then the next token is signed with the new kid', async () => {
    let key = generateSigningKey();
    const issuer = new JwtAccessTokenIssuer({ signingKey: async () => key }, settings);
    const first = jwt.decode((await issuer.issueAccessToken(user, sessionId)).token, { complete: true })!;
    key = generateSigningKey();
    const second = jwt.decode((await issuer.issueAccessToken(user, sessionId)).token, { complete: true })!;
    expect(first.header.kid).not.toBe(second.header.kid);
    expect(second.header.kid).toBe(key.kid);
  });
});

describe('signing keys', () => {
  it('When a key is exported and imported again, then its kid is the same RFC 7638 thumbprint and the JWK is public only', () => {
    const generated = generateSigningKey();
    const loaded = importPrivateKey(exportPrivateKey(generated));
    expect(loaded.kid).toBe(generated.kid);
    expect(loaded.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(loaded.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(loaded.publicJwk).not.toHaveProperty('d');
  });

  it('When the key is not EC P-256, then importing fails clearly', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => importPrivateKey(rsa.export({ type: 'pkcs8', format: 'der' }))).toThrow('EC P-256');
  });
});
