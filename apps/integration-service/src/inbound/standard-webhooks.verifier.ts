import {
  anySignatureMatches,
  assertFresh,
  hmacSha256,
  parseUnixSeconds,
  requireHeader,
  unauthenticated,
} from './signature.js';
import { stringMember, type WebhookVerifier } from './webhook-verifier.js';

/**
 * Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`,
 * keyed with the base64-decoded secret (`whsec_` prefix dropped). Several signatures are sent while
 * the sender rotates; any one matching one of our secrets is enough. Other versions (`v1a`,
 * asymmetric) are ignored. Svix, which implements the spec, also names the headers `svix-*`.
 */
export const standardWebhooksVerifier: WebhookVerifier = {
  kind: 'standard-webhooks',

  verify(delivery, source, nowMs) {
    const id = requireHeader(delivery, 'webhook-id', 'svix-id');
    const timestamp = requireHeader(delivery, 'webhook-timestamp', 'svix-timestamp');
    const header = requireHeader(delivery, 'webhook-signature', 'svix-signature');
    const signatures = header
      .split(' ')
      .filter((entry) => entry.startsWith('v1,'))
      .map((entry) => entry.slice(3));
    if (signatures.length === 0)
      throw unauthenticated('Malformed webhook-signature header (no v1,<base64> signature)');
    const presented = signatures.map((signature) => Buffer.from(signature, 'base64'));
    const expected = source.secrets.map((secret) =>
      hmacSha256(Buffer.from(secret.replace(/^whsec_/, ''), 'base64'), [
        `${id}.${timestamp}.`,
        delivery.body,
      ]),
    );
    if (!anySignatureMatches(expected, presented))
      throw unauthenticated('No v1 signature in webhook-signature matches with any secret of this source');
    const seconds = parseUnixSeconds(timestamp, 'webhook-timestamp');
    assertFresh(seconds, source.toleranceSeconds, nowMs);
    return { timestamp: seconds };
  },

  identify(delivery, payload) {
    // webhook-id is signed; a retry of the same message keeps it (with a new timestamp and signature).
    return {
      messageId: requireHeader(delivery, 'webhook-id', 'svix-id'),
      eventType: stringMember(payload, 'type'),
    };
  },
};
