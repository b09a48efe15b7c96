import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '@te/platform';

/** A delivery as received: header names lower-cased, the body byte for byte. */
export interface InboundDelivery {
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** HMAC-SHA256 over the parts as they are (never re-encoded: the sender signed these bytes). */
export function hmacSha256(key: string | Buffer, parts: (string | Buffer)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/**
 * Whether any presented signature equals any expected one. Every pair is compared in constant time
 * (timingSafeEqual; a length mismatch is decided without looking at the bytes), and every pair is
 * compared even after a match, so the time taken says nothing about which secret or signature matched.
 */
export function anySignatureMatches(expected: readonly Buffer[], presented: readonly Buffer[]): boolean {
  let matched = false;
  for (const want of expected) {
    for (const got of presented) {
      if (got.length === want.length && timingSafeEqual(got, want)) matched = true;
    }
  }
  return matched;
}

/** Hex of the exact length of a SHA-256 digest, as bytes; undefined when malformed. */
export function decodeHexDigest(value: string): Buffer | undefined {
  return /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : undefined;
}

/** A delivery that cannot be authenticated; the reason names what is wrong, never a secret. */
export function unauthenticated(reason: string): AppError {
  return new AppError('UNAUTHENTICATED', reason);
}

export function requireHeader(delivery: InboundDelivery, ...names: string[]): string {
  for (const name of names) {
    const value = delivery.headers[name]?.trim();
    if (value) return value;
  }
  throw unauthenticated(`Missing ${names[0]} header`);
}

/** Unix seconds as senders write them (digits only: "1700000000"). */
export function parseUnixSeconds(value: string, header: string): number {
  if (!/^\d{1,12}$/.test(value)) throw unauthenticated(`Malformed ${header} header (expected Unix seconds)`);
  return Number(value);
}

/**
 * A signed timestamp more than `toleranceSeconds` away from now, in either direction, is refused: an
 * old one is a replay outside the window in which message ids are remembered, a future one a sender
 * clock gone wrong (or a window stretched on purpose).
 */
export function assertFresh(timestampSeconds: number, toleranceSeconds: number, nowMs: number): void {
  const ageSeconds = nowMs / 1000 - timestampSeconds;
  if (ageSeconds > toleranceSeconds)
    throw unauthenticated(`Timestamp is too old (more than ${toleranceSeconds} s ago)`);
  if (-ageSeconds > toleranceSeconds)
    throw unauthenticated(`Timestamp is in the future (more than ${toleranceSeconds} s ahead)`);
}
