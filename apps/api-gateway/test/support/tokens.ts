import {
  createHash,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { PublicJwk } from '../../src/auth/jwks.cache.js';

/**
 * JWTs built by hand (node:crypto), so a test controls every header and claim — including the
 * ones no well-behaved library would produce (alg none, crit, jku, HS256 keyed with a public key).
 */
export interface TestKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public JWK as user-service publishes it. */
  jwk: PublicJwk;
}

export function ecKey(kid: string = randomUUID()): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return withJwk(kid, 'ES256', privateKey, publicKey);
}

export function rsaKey(kid: string = randomUUID()): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return withJwk(kid, 'RS256', privateKey, publicKey);
}

/** A user-service key (from its key ring); kid is the RFC 7638 thumbprint, as user-service computes it. */
export function ecKeyFromPrivateKey(privateKey: KeyObject): TestKey {
  const publicKey = createPublicKey(privateKey);
  const { crv, kty, x, y } = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const kid = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  return withJwk(kid, 'ES256', privateKey, publicKey);
}

function withJwk(kid: string, alg: TestKey['alg'], privateKey: KeyObject, publicKey: KeyObject): TestKey {
  const exported = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return { kid, alg, privateKey, publicKey, jwk: { ...exported, kid, alg, use: 'sig' } as PublicJwk };
}

export interface TokenSettings {
  issuer: string;
  audience: string;
}

export interface TokenOptions {
  /** Merged over { alg, typ: 'at+jwt', kid }; a value of undefined removes the member. */
  header?: Record<string, unknown>;
  /** Merged over iss, aud, sub, iat, exp (+15 min), jti, sid, roles, scope; undefined removes the claim. */
  claims?: Record<string, unknown>;
  /** How the signature is made; default the key's own algorithm. */
  signWith?: 'key' | 'none' | { hs256Secret: string | Buffer };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token exactly like user-service's, unless options say otherwise. */
export function makeToken(key: TestKey, settings: TokenSettings, options: TokenOptions = {}): string {
  const now = nowSeconds();
  const header = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header };
  const claims = {
    iss: settings.issuer,
    aud: settings.audience,
    sub: randomUUID(),
    iat: now,
    exp: now + 900,
    jti: randomUUID(),
    sid: randomUUID(),
    roles: ['user'],
    scope: 'profile:read explain',
    ...options.claims,
  };
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${signature(input, key, options.signWith ?? 'key')}`;
}

function signature(input: string, key: TestKey, how: NonNullable<TokenOptions['signWith']>): string {
  if (how === 'none') return '';
  if (how === 'key') {
    // JWS ES256 signatures are r || s (RFC 7518 §3.4), not DER.
    const options =
      key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const } : key.privateKey;
    return sign('sha256', Buffer.from(input), options).toString('base64url');
  }
  return createHmac('sha256', how.hs256Secret).update(input).digest('base64url');
}

function encode(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The parts of a compact JWT, decoded (no verification). */
export function decodeToken(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, claims] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** The same token with a different payload and the original signature. */
export function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , sig] = token.split('.');
  return `${header}.${encode(claims)}.${sig}`;
}
