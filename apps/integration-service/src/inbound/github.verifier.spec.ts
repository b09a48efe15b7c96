import { sign } from '@octokit/webhooks-methods';
import { AppError } from '@te/platform';
import { githubVerifier } from './github.verifier.js';
import type { InboundSourceSettings } from './inbound-source.config.js';

const source = (secrets: string[]): InboundSourceSettings => ({
  id: 'github-main',
  kind: 'github',
  secrets,
  toleranceSeconds: 86_400,
});
// Unusual whitespace and a non-ASCII character: only the exact bytes verify.
const BODY = '{ "action":"opened",\n\t"issue": {"title": "Grüße"}  }';
const NOW = Date.now();

async function delivery(secret: string, body = BODY, headers: Record<string, string> = {}) {
  return {
    headers: {
      'x-hub-signature-256': await sign(secret, body),
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-event': 'issues',
      ...headers,
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

describe('githubVerifier (X-Hub-Signature-256)', () => {
  it('When GitHub signed the exact body with the secret, then it verifies and names the delivery', async () => {
    const signed = await delivery('s3cret');

    const verified = githubVerifier.verify(signed, source(['s3cret']), NOW);

    expect(githubVerifier.identify(signed, {}, verified)).toEqual({
      messageId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      eventType: 'issues',
    });
  });

  it('When the source has two secrets (rotation), then a signature with either verifies', async () => {
    const settings = source(['old-secret', 'new-secret']);
    const byOld = await delivery('old-secret');
    const byNew = await delivery('new-secret');

    expect(() => githubVerifier.verify(byOld, settings, NOW)).not.toThrow();
    expect(() => githubVerifier.verify(byNew, settings, NOW)).not.toThrow();
  });

  it('When the body was changed after signing (even whitespace), then UNAUTHENTICATED', async () => {
    const signed = await delivery('s3cret');
    const tampered = { ...signed, body: Buffer.from(JSON.stringify(JSON.parse(BODY))) };

    const error = refusal(() => githubVerifier.verify(tampered, source(['s3cret']), NOW));

    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/does not match/);
  });

  it('When it was signed with another secret, then UNAUTHENTICATED', async () => {
    const signed = await delivery('not-ours');

    const error = refusal(() => githubVerifier.verify(signed, source(['s3cret', 'other']), NOW));

    expect(error.code).toBe('UNAUTHENTICATED');
  });

  it('When the signature header is missing or not sha256=<hex>, then UNAUTHENTICATED naming it', async () => {
    const signed = await delivery('s3cret');
    const without = { ...signed, headers: { 'x-github-delivery': 'd-1' } };
    const sha1 = { ...signed, headers: { ...signed.headers, 'x-hub-signature-256': 'sha1=abcdef' } };

    expect(refusal(() => githubVerifier.verify(without, source(['s3cret']), NOW)).message).toBe(
      'Missing x-hub-signature-256 header',
    );
    expect(refusal(() => githubVerifier.verify(sha1, source(['s3cret']), NOW)).message).toMatch(/Malformed/);
  });

  it('When X-GitHub-Delivery is missing, then the verified delivery cannot be identified (UNAUTHENTICATED)', async () => {
    const signed = await delivery('s3cret');
    const { 'x-github-delivery': _omitted, ...headers } = signed.headers;
    const withoutId = { ...signed, headers };
    const verified = githubVerifier.verify(withoutId, source(['s3cret']), NOW);

    const error = refusal(() => githubVerifier.identify(withoutId, {}, verified));

    expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', 'Missing x-github-delivery header']);
  });
});
