import { createHmac } from 'node:crypto';
import {
  decodeWebhookSecret,
  generateWebhookSecret,
  newWebhookMessageId,
  signWebhook,
  webhookHeaders,
} from './standard-webhooks.js';

// The example from the Standard Webhooks reference libraries' own tests.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const AT = new Date(1614265330 * 1000);
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

describe('Standard Webhooks signing', () => {
  it('When the reference example is signed, then the signature is the one the spec libraries produce', () => {
    expect(signWebhook({ id: ID, timestamp: AT, body: BODY, secrets: [SECRET] })).toBe(EXPECTED);
    expect(signWebhook({ id: ID, timestamp: AT, body: Buffer.from(BODY), secrets: [SECRET] })).toBe(EXPECTED);
  });

  it('When signing with two secrets, then both signatures are sent, space-separated, in order', () => {
    const other = generateWebhookSecret();
    const key = decodeWebhookSecret(other);
    const second = createHmac('sha256', key).update(`${ID}.1614265330.${BODY}`).digest('base64');
    expect(signWebhook({ id: ID, timestamp: AT, body: BODY, secrets: [SECRET, other] })).toBe(
      `${EXPECTED} v1,${second}`,
    );
    expect(() => signWebhook({ id: ID, timestamp: AT, body: BODY, secrets: [] })).toThrow(RangeError);
  });

  it('When headers are built, then they carry the id, the timestamp in whole seconds and the signature', () => {
    expect(
      webhookHeaders({ id: ID, timestamp: new Date(AT.getTime() + 999), body: BODY, secrets: [SECRET] }),
    ).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': '1614265330',
      'webhook-signature': EXPECTED,
    });
  });

  it('When secrets are generated, then they are whsec_ and base64 of 24 to 64 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(decodeWebhookSecret(secret)).toHaveLength(32);
    expect(decodeWebhookSecret(generateWebhookSecret(24))).toHaveLength(24);
    expect(decodeWebhookSecret(generateWebhookSecret(64))).toHaveLength(64);
    expect(generateWebhookSecret()).not.toBe(secret);
    expect(() => generateWebhookSecret(23)).toThrow(RangeError);
    expect(() => generateWebhookSecret(65)).toThrow(RangeError);
    expect(() => decodeWebhookSecret('whsec_not base64!')).toThrow('standard base64');
    expect(newWebhookMessageId()).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
