import Stripe from 'stripe';
import { AppError } from '@te/platform';
import type { InboundSourceSettings } from './inbound-source.config.js';
import { stripeVerifier } from './stripe.verifier.js';

const SECRET = 'whsec_test_0123456789abcdef';
const source = (secrets = [SECRET], toleranceSeconds = 300): InboundSourceSettings => ({
  id: 'stripe',
  kind: 'stripe',
  secrets,
  toleranceSeconds,
});
const BODY = '{\n  "id": "evt_1Nq", "object": "event",\n  "type": "invoice.paid" }';
const nowSeconds = () => Math.floor(Date.now() / 1000);

function delivery(header: string, body = BODY) {
  return { headers: { 'stripe-signature': header }, body: Buffer.from(body) };
}
const signed = (secret = SECRET, timestamp = nowSeconds(), body = BODY) =>
  Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
};

describe('stripeVerifier (Stripe-Signature)', () => {
  it("When Stripe's library signed the body, then it verifies and is named by the event id and type", () => {
    const received = delivery(signed());

    const verified = stripeVerifier.verify(received, source(), Date.now());

    expect(stripeVerifier.identify(received, JSON.parse(BODY), verified)).toEqual({
      messageId: 'evt_1Nq',
      eventType: 'invoice.paid',
    });
  });

  it('When the header carries several v1 signatures (Stripe rolling its secret), then one matching is enough', async () => {
    const t = nowSeconds();
    const ours = (
      await Stripe.webhooks.generateTestHeaderStringAsync({ payload: BODY, secret: SECRET, timestamp: t })
    ).split(',')[1]!;
    const theirs = signed('whsec_rolled_away', t).split(',')[1]!;

    expect(() =>
      stripeVerifier.verify(delivery(`t=${t},${theirs},${ours},v0=00`), source(), Date.now()),
    ).not.toThrow();
  });

  it('When the source has two secrets (rotation), then a signature with either verifies', () => {
    const settings = source(['whsec_old', SECRET]);

    expect(() => stripeVerifier.verify(delivery(signed('whsec_old')), settings, Date.now())).not.toThrow();
    expect(() => stripeVerifier.verify(delivery(signed(SECRET)), settings, Date.now())).not.toThrow();
  });

  it('When the body was changed, or signed with another secret, then UNAUTHENTICATED', () => {
    const tampered = delivery(signed(), BODY.replace('invoice.paid', 'invoice.voided'));
    const foreign = delivery(signed('whsec_someone_else'));

    for (const received of [tampered, foreign]) {
      const error = refusal(() => stripeVerifier.verify(received, source(), Date.now()));
      expect(error).toBeInstanceOf(AppError);
      expect(error.code).toBe('UNAUTHENTICATED');
      expect(error.message).toMatch(/No v1 signature/);
    }
  });

  it('When the timestamp is beyond the tolerance (old or ahead), then UNAUTHENTICATED; within it, accepted', () => {
    const old = delivery(signed(SECRET, nowSeconds() - 301));
    const ahead = delivery(signed(SECRET, nowSeconds() + 400));
    const fourMinutes = delivery(signed(SECRET, nowSeconds() - 240));

    expect(refusal(() => stripeVerifier.verify(old, source(), Date.now())).message).toMatch(/too old/);
    expect(refusal(() => stripeVerifier.verify(ahead, source(), Date.now())).message).toMatch(/future/);
    expect(() => stripeVerifier.verify(fourMinutes, source(), Date.now())).not.toThrow();
    expect(() => stripeVerifier.verify(old, source([SECRET], 600), Date.now())).not.toThrow();
  });

  it('When the header is missing or lacks t= or v1=, then UNAUTHENTICATED saying so', () => {
    const t = nowSeconds();
    const v1 = signed(SECRET, t).split(',')[1]!;
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /Missing stripe-signature/],
      [{ 'stripe-signature': v1 }, /no t=/],
      [{ 'stripe-signature': `t=${t},v0=${v1.slice(3)}` }, /no v1/],
    ];
    for (const [headers, reason] of cases) {
      const error = refusal(() =>
        stripeVerifier.verify({ headers, body: Buffer.from(BODY) }, source(), Date.now()),
      );
      expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', expect.stringMatching(reason)]);
    }
  });

  it('When a verified body has no event id, then it is named by what was signed (the same for a retry of it)', () => {
    const body = '{"object":"balance"}';
    const t = nowSeconds();
    const first = delivery(signed(SECRET, t, body), body);
    const again = delivery(signed(SECRET, t, body), body);

    const id = stripeVerifier.identify(
      first,
      JSON.parse(body),
      stripeVerifier.verify(first, source(), Date.now()),
    );

    expect(id).toEqual({ messageId: expect.stringMatching(/^signed_[0-9a-f]{32}$/), eventType: null });
    expect(stripeVerifier.identify(again, JSON.parse(body), { timestamp: t }).messageId).toBe(id.messageId);
  });
});
