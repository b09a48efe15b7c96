import { AppError } from '@te/platform';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertValidKey } from './object-key.js';

/**
 * Signed download links for the filesystem driver, the counterpart of S3's presigned GET URLs:
 *   <urlBase>/<key>?expires=<unix seconds>&signature=<base64url HMAC-SHA256>
 * The MAC covers a version tag, the key and the expiry, so neither can be changed. The route that
 * serves `<urlBase>/*` calls `verifySignedUrl` and streams `storage.get(key)` (see decision 0010).
 */
const CONTEXT = 'te-object-url:v1';
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const EXPIRES = /^[0-9]{1,12}$/;

export interface SignedUrlVerification {
  key: string;
  expiresAt: Date;
}

export function signObjectUrl(input: {
  key: string;
  expiresAt: Date;
  secret: string;
  urlBase: string;
}): string {
  assertValidKey(input.key);
  const expires = Math.floor(input.expiresAt.getTime() / 1000);
  const signature = mac(input.secret, input.key, String(expires)).toString('base64url');
  // Key segments use only URL-safe characters (object-key.ts), so the key needs no encoding.
  return `${input.urlBase.replace(/\/+$/, '')}/${input.key}?expires=${expires}&signature=${signature}`;
}

/**
 * Checks a signed link (absolute, or a request path such as Node's `req.url`) and returns its key.
 * Every failure is FORBIDDEN; the signature is compared in constant time before the expiry is read.
 */
export function verifySignedUrl(
  url: string | URL,
  options: { secret: string; basePath: string; now?: Date },
): SignedUrlVerification {
  const parsed = typeof url === 'string' ? new URL(url, 'http://signed.invalid') : url;
  const base = options.basePath.replace(/\/+$/, '') + '/';
  if (!parsed.pathname.startsWith(base)) throw forbidden('is not a signed object link');
  const key = safeDecode(parsed.pathname.slice(base.length));
  const expires = parsed.searchParams.get('expires') ?? '';
  const signature = parsed.searchParams.get('signature') ?? '';
  if (key === undefined || !EXPIRES.test(expires) || !SIGNATURE.test(signature)) {
    throw forbidden('is malformed');
  }
  try {
    assertValidKey(key);
  } catch {
    throw forbidden('names an invalid key');
  }
  // Compared as text: base64url decoding ignores the last character's spare bits, so comparing bytes
  // would accept more than one spelling of the same signature.
  const expected = Buffer.from(mac(options.secret, key, expires).toString('base64url'));
  if (!timingSafeEqual(expected, Buffer.from(signature))) throw forbidden('has a bad signature');
  const expiresAt = new Date(Number(expires) * 1000);
  if ((options.now ?? new Date()).getTime() >= expiresAt.getTime()) throw forbidden('has expired');
  return { key, expiresAt };
}

function mac(secret: string, key: string, expires: string): Buffer {
  return createHmac('sha256', secret).update(`${CONTEXT}\n${key}\n${expires}`).digest();
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function forbidden(problem: string): AppError {
  return new AppError('FORBIDDEN', `The download link ${problem}`);
}
