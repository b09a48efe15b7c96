import { createHash } from 'node:crypto';
import {
  anySignatureMatches,
  assertFresh,
  decodeHexDigest,
  hmacSha256,
  parseUnixSeconds,
  requireHeader,
  unauthenticated,
} from './signature.js';
import { stringMember, type WebhookVerifier } from './webhook-verifier.js';

const SIGNATURE_HEADER = 'stripe-signature';

/**
 * Stripe (https://docs.stripe.com/webhooks#verify-manually): `Stripe-Signature: t=<unix s>,v1=<hex>`
 * where each v1 is HMAC-SHA256 of `<t>.<body>` with an endpoint secret (the `whsec_…` string as is).
 * While a secret is rolled Stripe sends one v1 per active secret; any one matching is enough. Other
 * schemes (v0: test-mode legacy) are ignored. The timestamp must be within the tolerance either way.
 */
export const stripeVerifier: WebhookVerifier = {
  kind: 'stripe',

  verify(delivery, source, nowMs) {
    const { timestamp, signatures } = parseHeader(requireHeader(delivery, SIGNATURE_HEADER));
    const presented = signatures.map(decodeHexDigest).filter((value) => value !== undefined);
    const expected = source.secrets.map((secret) => hmacSha256(secret, [`${timestamp}.`, delivery.body]));
    if (!anySignatureMatches(expected, presented))
      throw unauthenticated(
        'No v1 signature in Stripe-Signature matches the body with any secret of this source',
      );
    const seconds = parseUnixSeconds(timestamp, 'Stripe-Signature t');
    assertFresh(seconds, source.toleranceSeconds, nowMs);
    return { timestamp: seconds };
  },

  identify(delivery, payload, verified) {
    // The event id is in the signed body; a retry carries the same one with a new t and signature.
    // A body without one (not an event object) is named by what was signed: t and the body.
    const signed = createHash('sha256').update(`${verified.timestamp}.`).update(delivery.body);
    const messageId = stringMember(payload, 'id') ?? `signed_${signed.digest('hex').slice(0, 32)}`;
    return { messageId, eventType: stringMember(payload, 'type') };
  },
};

function parseHeader(header: string): { timestamp: string; signatures: string[] } {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const separator = item.indexOf('=');
    if (separator < 0) continue;
    const key = item.slice(0, separator).trim();
    const value = item.slice(separator + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined) throw unauthenticated('Malformed Stripe-Signature header (no t=)');
  if (signatures.length === 0) throw unauthenticated('Malformed Stripe-Signature header (no v1 signature)');
  return { timestamp, signatures };
}
