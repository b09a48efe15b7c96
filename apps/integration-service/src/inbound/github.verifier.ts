import {
  decodeHexDigest,
  anySignatureMatches,
  hmacSha256,
  requireHeader,
  unauthenticated,
} from './signature.js';
import type { WebhookVerifier } from './webhook-verifier.js';

const SIGNATURE_HEADER = 'x-hub-signature-256';

/**
 * GitHub (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries):
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the secret>`. GitHub signs no
 * timestamp and not its headers: X-GitHub-Delivery names the delivery for replay protection but is not
 * authenticated, so the replay guard also remembers each signed body (receive-webhook.use-case.ts).
 */
export const githubVerifier: WebhookVerifier = {
  kind: 'github',

  verify(delivery, source) {
    const header = requireHeader(delivery, SIGNATURE_HEADER);
    if (!header.startsWith('sha256='))
      throw unauthenticated('Malformed X-Hub-Signature-256 header (expected sha256=<hex>)');
    const presented = decodeHexDigest(header.slice('sha256='.length));
    if (!presented) throw unauthenticated('Malformed X-Hub-Signature-256 header (expected sha256=<hex>)');
    const expected = source.secrets.map((secret) => hmacSha256(secret, [delivery.body]));
    if (!anySignatureMatches(expected, [presented]))
      throw unauthenticated('X-Hub-Signature-256 does not match the body with any secret of this source');
    return {};
  },

  identify(delivery) {
    const messageId = requireHeader(delivery, 'x-github-delivery');
    return { messageId, eventType: delivery.headers['x-github-event']?.trim() || null };
  },
};
