import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { AppError } from '@te/platform';
import type { InboundSourceSettings } from './inbound-source.config.js';
import { standardWebhooksVerifier } from './standard-webhooks.verifier.js';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET = newSecret();
const source = (secrets = [SECRET], toleranceSeconds = 300): InboundSourceSettings => ({
  id: 'acme',
  kind: 'standard-webhooks',
  secrets,
  toleranceSeconds,
});
const BODY = '{"type":"invoice.paid",  "timestamp":"2026-01-01T00:00:00Z","data":{"id":"inv_1"}}';
const MSG_ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

function delivery(options: { secret?: string; at?: Date; body?: string; id?: string; prefix?: string } = {}) {
  const at = options.at ?? new Date();
  const body = options.body ?? BODY;
  const id = options.id ?? MSG_ID;
  const prefix = options.prefix ?? 'webhook';
  return {
    headers: {
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)),
      [`${prefix}-signature`]: new Webhook(options.secret ?? SECRET).sign(id, at, body),
    },
    body: Buffer.from(body),
  };
}

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
};

describe('standardWebhooksVerifier (webhook-id, webhook-timestamp, webhook-signature)', () => {
  it('When the reference library signed the message, then it verifies and is named by webhook-id and type', () => {
    const received = delivery();

    const verified = standardWebhooksVerifier.verify(received, source(), Date.now());

    expect(standardWebhooksVerifier.identify(received, JSON.parse(BODY), verified)).toEqual({
      messageId: MSG_ID,
      eventType: 'invoice.paid',
    });
  });

  it('When the header lists several signatures (the sender rotating), then one matching is enough', () => {
    const received = delivery();
    const other = delivery({ secret: newSecret() }).headers['webhook-signature'];
    const header = `v1a,${randomBytes(64).toString('base64')} ${other} ${received.headers['webhook-signature']}`;

    expect(() =>
      standardWebhooksVerifier.verify(
        { ...received, headers: { ...received.headers, 'webhook-signature': header } },
        source(),
        Date.now(),
      ),
    ).not.toThrow();
  });

  it('When the source has two secrets (rotation), then a signature with either verifies; raw base64 works too', () => {
    const old = newSecret();
    const settings = source([old, SECRET.replace('whsec_', '')]);

    expect(() =>
      standardWebhooksVerifier.verify(delivery({ secret: old }), settings, Date.now()),
    ).not.toThrow();
    expect(() => standardWebhooksVerifier.verify(delivery(), settings, Date.now())).not.toThrow();
  });

  it('When the body or the signed id was changed, or another secret signed, then UNAUTHENTICATED', () => {
    const good = delivery();
    const cases = [
      { ...good, body: Buffer.from(BODY.replace('inv_1', 'inv_2')) },
      { ...good, headers: { ...good.headers, 'webhook-id': 'msg_other' } },
      delivery({ secret: newSecret() }),
    ];
    for (const received of cases) {
      const error = refusal(() => standardWebhooksVerifier.verify(received, source(), Date.now()));
      expect(error).toBeInstanceOf(AppError);
      expect([error.code, error.message]).toEqual([
        'UNAUTHENTICATED',
        expect.stringMatching(/No v1 signature/),
      ]);
    }
  });

  it('When the timestamp is beyond the tolerance (old or ahead), then UNAUTHENTICATED', () => {
    const old = delivery({ at: new Date(Date.now() - 301_000) });
    const ahead = delivery({ at: new Date(Date.now() + 301_000) });

    expect(refusal(() => standardWebhooksVerifier.verify(old, source(), Date.now())).message).toMatch(
      /too old/,
    );
    expect(refusal(() => standardWebhooksVerifier.verify(ahead, source(), Date.now())).message).toMatch(
      /future/,
    );
    expect(() => standardWebhooksVerifier.verify(old, source([SECRET], 900), Date.now())).not.toThrow();
  });

  it('When a header is missing, then UNAUTHENTICATED naming it', () => {
    const good = delivery();
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers: Record<string, string> = { ...good.headers };
      delete headers[name];

      const error = refusal(() =>
        standardWebhooksVerifier.verify({ ...good, headers }, source(), Date.now()),
      );

      expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', `Missing ${name} header`]);
    }
  });

  it('When Svix names the headers svix-*, then they are read the same way', () => {
    const received = delivery({ prefix: 'svix' });

    const verified = standardWebhooksVerifier.verify(received, source(), Date.now());

    expect(standardWebhooksVerifier.identify(received, JSON.parse(BODY), verified).messageId).toBe(MSG_ID);
  });
});
