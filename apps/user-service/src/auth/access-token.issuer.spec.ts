import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_TYPE, JwtAccessTokenIssuer } from './access-token.issuer.js';
import { generateSigningKey, loadSigningKey } from './signing-key.js';

const user = {
  id: '01a210a7-71f0-752a-8fc0-9f01dadc389a',
  email: 'ada@example.com',
  name: 'Ada',
  roles: ['user'],
  createdAt: new Date(),
};
const settings = { issuer: 'https://te.test', audience: 'te-api', ttlSeconds: 900 };

describe('JwtAccessTokenIssuer', () => {
  it('When a token is issued, then it is an ES256 at+jwt with the RFC 9068 claims, verifiable with the published key', async () => {
    const key = generateSigningKey();
    const { token, tokenType, expiresIn } = await new JwtAccessTokenIssuer(key, settings).issueAccessToken(
      user,
    );
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
    expect(claims).toMatchObject({ sub: user.id, roles: ['user'], scope: 'profile explain' });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('When two tokens are issued, then their jti differ', async () => {
    const issuer = new JwtAccessTokenIssuer(generateSigningKey(), settings);
    const a = jwt.decode((await issuer.issueAccessToken(user)).token) as jwt.JwtPayload;
    const b = jwt.decode((await issuer.issueAccessToken(user)).token) as jwt.JwtPayload;
    expect(a.jti).not.toBe(b.jti);
  });
});

describe('signing keys', () => {
  it('When a PEM key is loaded, then its kid is the RFC 7638 thumbprint and stays stable', () => {
    const generated = generateSigningKey();
    const pem = generated.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const loaded = loadSigningKey(pem);
    expect(loaded.kid).toBe(generated.kid);
    expect(loaded.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(loaded.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(loaded.publicJwk).not.toHaveProperty('d');
  });

  it('When the key is not EC P-256, then loading fails clearly', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = rsa.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadSigningKey(pem)).toThrow('EC P-256');
  });
});
