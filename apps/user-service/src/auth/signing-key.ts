import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** A public JWK as published in the JWKS (RFC 7517). */
export interface PublicJwk {
  kid: string;
  kty: string;
  alg: string;
  use: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

/**
 * Access tokens are signed with ES256 (ECDSA P-256; RFC 8725 §3.1 allow-list on the verifying side).
 * The key id is the RFC 7638 thumbprint of the public key, so it changes whenever the key does.
 */
export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return fromPrivateKey(privateKey);
}

/** The private key as stored (before encryption): PKCS#8 DER. */
export function exportPrivateKey(key: SigningKey): Buffer {
  return key.privateKey.export({ type: 'pkcs8', format: 'der' });
}

/** Rebuilds a key from its PKCS#8 DER; refuses anything but EC P-256. */
export function importPrivateKey(der: Buffer): SigningKey {
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('JWT signing key must be an EC P-256 private key');
  }
  return fromPrivateKey(privateKey);
}

function fromPrivateKey(privateKey: KeyObject): SigningKey {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as {
    crv: string;
    kty: string;
    x: string;
    y: string;
  };
  const kid = thumbprint(jwk);
  return {
    kid,
    alg: 'ES256',
    privateKey,
    publicJwk: { kid, kty: jwk.kty, alg: 'ES256', use: 'sig', crv: jwk.crv, x: jwk.x, y: jwk.y },
  };
}

// RFC 7638 §3.2: the required members, in lexicographic order, without whitespace.
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
