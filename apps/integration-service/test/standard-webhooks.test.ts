import { spawnSync } from 'node:child_process';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import {
  generateWebhookSecret,
  newWebhookMessageId,
  webhookHeaders,
} from '../src/webhooks/standard-webhooks.js';

/** 'accepted', or the verifier's error message. */
type Verify = (secret: string, body: string, headers: Record<string, string>) => string;

const withStandardWebhooks: Verify = (secret, body, headers) => {
  try {
    new StandardWebhook(secret).verify(body, headers);
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
};

// svix ships ES modules only, which Jest's CommonJS runtime cannot load; a real Node process runs
// the package exactly as a receiver would.
const SVIX_SCRIPT = `
import { Webhook } from 'svix';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { secret, body, headers } = JSON.parse(input);
try { new Webhook(secret).verify(body, headers); process.stdout.write('accepted'); }
catch (error) { process.stdout.write(error.message); }
`;
const withSvix: Verify = (secret, body, headers) => {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', SVIX_SCRIPT], {
    input: JSON.stringify({ secret, body, headers }),
    encoding: 'utf8',
    cwd: __dirname,
  });
  if (run.status !== 0) throw new Error(`svix verifier process failed: ${run.stderr}`);
  return run.stdout;
};

const payload = () =>
  JSON.stringify({
    type: 'user.registered',
    timestamp: new Date().toISOString(),
    data: { name: 'Zoë 🚀', n: 1 },
  });
const signed = (secrets: string[], timestamp = new Date(), id = newWebhookMessageId(), body = payload()) => ({
  body,
  headers: { ...webhookHeaders({ id, timestamp, body, secrets }) },
});

describe('What we sign is accepted by the standardwebhooks and svix verifiers', () => {
  describe.each([
    { name: 'standardwebhooks', verify: withStandardWebhooks },
    { name: 'svix', verify: withSvix },
  ])('$name Webhook.verify', ({ verify }) => {
    it('When a message is signed with one secret, then it is accepted with that secret', () => {
      const secret = generateWebhookSecret();
      const { body, headers } = signed([secret]);
      expect(verify(secret, body, headers)).toBe('accepted');
    });

    it('When the secret has the shortest or longest allowed length, then the signature is accepted', () => {
      for (const bytes of [24, 64]) {
        const secret = generateWebhookSecret(bytes);
        const { body, headers } = signed([secret]);
        expect(verify(secret, body, headers)).toBe('accepted');
      }
    });

    it('When signed with the new and the old secret during rotation, then either verifies and a third does not', () => {
      const [newSecret, oldSecret] = [generateWebhookSecret(), generateWebhookSecret()];
      const { body, headers } = signed([newSecret, oldSecret]);
      expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(verify(oldSecret, body, headers)).toBe('accepted');
      expect(verify(newSecret, body, headers)).toBe('accepted');
      expect(verify(generateWebhookSecret(), body, headers)).toBe('No matching signature found');
    });

    it('When the body, the id or the timestamp is tampered with, then it is rejected', () => {
      const secret = generateWebhookSecret();
      const { body, headers } = signed([secret]);
      const later = String(Number(headers['webhook-timestamp']) + 1);
      expect(verify(secret, body.replace('"n":1', '"n":2'), headers)).toBe('No matching signature found');
      expect(verify(secret, body, { ...headers, 'webhook-id': 'msg_other' })).toBe(
        'No matching signature found',
      );
      expect(verify(secret, body, { ...headers, 'webhook-timestamp': later })).toBe(
        'No matching signature found',
      );
    });

    it('When the message was signed ten minutes ago, then it is rejected as too old', () => {
      const secret = generateWebhookSecret();
      const { body, headers } = signed([secret], new Date(Date.now() - 10 * 60_000));
      expect(verify(secret, body, headers)).toBe('Message timestamp too old');
    });
  });
});
