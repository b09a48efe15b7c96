import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * The API key format: `tek_<public id>_<secret>`.
 * - `tek_` makes a leaked key recognisable (secret scanners, logs) and tells the gateway it is not a JWT.
 * - The public id (8 characters of a lower-case base32 alphabet without i/l/o/u, 40 bits) with the
 *   `tek_` in front is the key's `prefix`: unique, shown in listings, the index a presented key is
 *   looked up by, so authentication is one indexed read and never a scan over hashes.
 * - The secret is 32 random bytes (256 bits, base64url, 43 characters) from the CSPRNG.
 * Only SHA-256 of the whole key is stored: with 256 bits of entropy a slow password hash adds nothing
 * (OWASP Password Storage cheat sheet: key stretching is for low-entropy secrets), and a fast hash
 * keeps authentication cheap.
 */
export const API_KEY_TAG = 'tek_';
const PUBLIC_ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const PUBLIC_ID_LENGTH = 8;
const SECRET_BYTES = 32;
const API_KEY_PATTERN = /^(tek_[0-9a-hjkmnp-tv-z]{8})_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** The whole key, handed to the owner once. */
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  let publicId = '';
  for (let i = 0; i < PUBLIC_ID_LENGTH; i++)
    publicId += PUBLIC_ID_ALPHABET[randomInt(PUBLIC_ID_ALPHABET.length)];
  const prefix = `${API_KEY_TAG}${publicId}`;
  const key = `${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The prefix of a well-formed key; undefined for anything else (checked before any lookup). */
export function apiKeyPrefix(presented: string): string | undefined {
  return API_KEY_PATTERN.exec(presented)?.[1];
}

/** base64url(SHA-256(key)): what the database holds. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}

/** Constant-time comparison of the presented key's hash with the stored one. */
export function apiKeyMatches(presented: string, storedHash: string): boolean {
  const actual = Buffer.from(hashApiKey(presented), 'base64url');
  const expected = Buffer.from(storedHash, 'base64url');
  // Both are SHA-256 digests (32 bytes); a stored value of another length can never match.
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
