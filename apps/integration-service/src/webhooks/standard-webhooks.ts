import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '@te/platform';

/**
 * Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * symmetric secrets `whsec_<base64>`, headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
 * Several signatures are sent while a rotated secret overlaps the new one; a verifier accepts if any
 * matches. This is the signing side (outbound webhooks); senders that sign this way to us are
 * verified by src/inbound/standard-webhooks.verifier.ts.
 */
export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export interface SignInput {
  /** The message id: the same on every retry of one message, so receivers can deduplicate. */
  id: string;
  timestamp: Date;
  /** The exact bytes sent as the request body. */
  body: string | Buffer;
  /** One secret, or the current and the rotated ones during an overlap. */
  secrets: readonly string[];
}

export function generateWebhookSecret(byteLength = 32): string {
  if (!Number.isInteger(byteLength) || byteLength < MIN_SECRET_BYTES || byteLength > MAX_SECRET_BYTES) {
    throw new RangeError(`webhook secrets have ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes`);
  }
  return SECRET_PREFIX + randomBytes(byteLength).toString('base64');
}

/** A message id as Svix and most senders write them: `msg_` and a random, unique suffix. */
export function newWebhookMessageId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/** The key bytes of a `whsec_` secret (the prefix is optional, as in the reference libraries). */
export function decodeWebhookSecret(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new AppError('VALIDATION_FAILED', 'A webhook secret is whsec_ followed by standard base64');
  }
  return Buffer.from(encoded, 'base64');
}

export function signWebhook(input: SignInput): string {
  if (input.secrets.length === 0) throw new RangeError('at least one secret is needed to sign');
  const seconds = unixSeconds(input.timestamp);
  return input.secrets
    .map((secret) => `v1,${hmac(decodeWebhookSecret(secret), input.id, seconds, input.body)}`)
    .join(' ');
}

export function webhookHeaders(input: SignInput): StandardWebhookHeaders {
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(unixSeconds(input.timestamp)),
    'webhook-signature': signWebhook(input),
  };
}

function hmac(key: Buffer, id: string, seconds: number, body: string | Buffer): string {
  return createHmac('sha256', key).update(`${id}.${seconds}.`).update(body).digest('base64');
}

function unixSeconds(timestamp: Date): number {
  return Math.floor(timestamp.getTime() / 1000);
}
