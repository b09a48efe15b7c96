import { randomUUID } from 'node:crypto';
import { callUnary } from '@te/grpc';
import { failure, WebhookService } from './support/webhook-harness.js';

// The Webhooks RPCs over real gRPC, on real PostgreSQL, Redis and RabbitMQ: each user's endpoints,
// validation, the cap, secrets shown once and stored encrypted, and other users' ids refused as 404.

let service: WebhookService;

beforeAll(async () => {
  service = await WebhookService.create({ WEBHOOK_MAX_ENDPOINTS_PER_USER: '3' });
}, 60_000);

afterAll(async () => {
  await service?.dispose();
}, 30_000);

const valid = (overrides: Record<string, unknown> = {}) => ({
  url: 'https://hooks.example.com/te?token=abc',
  eventTypes: ['context.message.created'],
  description: 'my receiver',
  ...overrides,
});

describe('webhook endpoints (te.integration.v1.Webhooks)', () => {
  it('When an endpoint is created, then its whsec_ secret is returned once and the endpoint is listed without it', async () => {
    const alice = service.as(randomUUID());

    const created = await alice.create(valid());

    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.endpoint).toMatchObject({
      url: 'https://hooks.example.com/te?token=abc',
      eventTypes: ['context.message.created'],
      description: 'my receiver',
      enabled: true,
      disabledReason: '',
      previousSecretExpiresAt: '',
    });
    const listed = await alice.list();
    expect(listed.endpoints.map((endpoint) => endpoint.id)).toEqual([created.endpoint.id]);
    const got = await alice.get(created.endpoint.id);
    expect(got.endpoint).toEqual(created.endpoint);
    expect(JSON.stringify([listed, got])).not.toContain(created.secret.slice(6));
  });

  it('When secrets are stored, then the database holds only their AES-256-GCM ciphertext, with its key id', async () => {
    const { endpoint, secret } = await service.as(randomUUID()).create(valid());
    const keyBytes = Buffer.from(secret.slice('whsec_'.length), 'base64');

    const rows = await service.query<{ key_id: string; ciphertext: Buffer }>(
      'SELECT key_id, ciphertext FROM webhook_secrets WHERE endpoint_id = $1',
      [endpoint.id],
    );
    const everything = JSON.stringify(
      await service.query(
        `SELECT e.*, s.id AS secret_id, s.key_id, encode(s.ciphertext, 'base64') AS b64,
                encode(s.ciphertext, 'hex') AS hex, encode(s.ciphertext, 'escape') AS raw
           FROM webhook_endpoints e JOIN webhook_secrets s ON s.endpoint_id = e.id`,
      ),
    );

    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_id).toMatch(/^k_[0-9a-f]{16}$/);
    expect(rows[0]!.ciphertext.includes(keyBytes)).toBe(false);
    expect(rows[0]!.ciphertext.includes(Buffer.from(secret))).toBe(false);
    for (const form of [secret, secret.slice(6), keyBytes.toString('hex')]) {
      expect(everything).not.toContain(form);
    }
    expect(JSON.stringify(service.captured.lines())).not.toContain(secret.slice(6));
  });

  it('When the input is invalid, then VALIDATION_FAILED names each field and nothing is stored', async () => {
    const userId = randomUUID();
    const bob = service.as(userId);
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'http://hooks.example.com/' }, 'url'],
      [{ url: 'https://10.0.0.8/hook' }, 'url'],
      [{ url: 'https://169.254.169.254/latest/meta-data' }, 'url'],
      [{ url: 'https://[::ffff:127.0.0.1]/' }, 'url'],
      [{ url: 'https://localhost/' }, 'url'],
      [{ url: 'ftp://files.example.com/' }, 'url'],
      [{ url: 'https://user:pw@hooks.example.com/' }, 'url'],
      [{ url: `https://hooks.example.com/${'a'.repeat(2100)}` }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ eventTypes: [] }, 'event_types'],
      [{ eventTypes: ['user.deleted'] }, 'event_types'],
      [{ eventTypes: ['session.revoked', 'context.message.created'] }, 'event_types'],
      [{ eventTypes: ['*', 'context.message.created'] }, 'event_types'],
      [{ description: 'x'.repeat(501) }, 'description'],
    ];
    for (const [input, field] of cases) {
      const error = await failure(bob.create(valid(input)));
      expect([error.code, error.fields?.map((f) => f.field)]).toEqual(['VALIDATION_FAILED', [field]]);
    }
    const both = await failure(bob.create(valid({ url: 'http://x.example/', eventTypes: ['nope'] })));
    expect(both.fields?.map((f) => f.field).sort()).toEqual(['event_types', 'url']);
    const stored = await service.query('SELECT 1 FROM webhook_endpoints WHERE user_id = $1', [userId]);
    expect(stored).toHaveLength(0);
  });

  it('When http is used for an allowlisted development host, or "*" for every type, then it is accepted', async () => {
    const created = await service
      .as(randomUUID())
      .create(valid({ url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] }));

    expect(created.endpoint).toMatchObject({ url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] });
  });

  it('When a user reaches WEBHOOK_MAX_ENDPOINTS_PER_USER, then the next one is a CONFLICT, even concurrently', async () => {
    const carol = service.as(randomUUID());

    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => carol.create(valid())));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused.map((result) => (result.reason as { code: string }).code)).toEqual([
      'CONFLICT',
      'CONFLICT',
    ]);
    expect((await carol.list()).endpoints).toHaveLength(3);
  });

  it('When an endpoint is updated, then only the present fields change; disabling and enabling are recorded', async () => {
    const dave = service.as(randomUUID());
    const { endpoint } = await dave.create(valid());

    const renamed = await dave.update({ id: endpoint.id, description: 'renamed' });
    expect(renamed.endpoint).toMatchObject({
      description: 'renamed',
      url: endpoint.url,
      eventTypes: endpoint.eventTypes,
    });

    const retyped = await dave.update({
      id: endpoint.id,
      setEventTypes: true,
      eventTypes: ['ai.inference.completed', 'ai.inference.failed'],
      url: 'https://other.example.com/hook',
    });
    expect(retyped.endpoint).toMatchObject({
      eventTypes: ['ai.inference.completed', 'ai.inference.failed'],
      url: 'https://other.example.com/hook',
      description: 'renamed',
    });

    const disabled = await dave.update({ id: endpoint.id, enabled: false });
    expect(disabled.endpoint.enabled).toBe(false);
    expect(disabled.endpoint.disabledAt).not.toBe('');
    const enabled = await dave.update({ id: endpoint.id, enabled: true });
    expect([enabled.endpoint.enabled, enabled.endpoint.disabledAt]).toEqual([true, '']);

    const error = await failure(dave.update({ id: endpoint.id, url: 'http://internal.example/' }));
    expect(error.code).toBe('VALIDATION_FAILED');
  });

  it('When the secret is rotated, then a new one is returned and the previous one has an overlap end', async () => {
    const erin = service.as(randomUUID());
    const { endpoint, secret } = await erin.create(valid());

    const before = Date.now();
    const rotated = await erin.rotate(endpoint.id);

    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    const ends = Date.parse(rotated.endpoint.previousSecretExpiresAt);
    expect(ends).toBeGreaterThanOrEqual(before + 86_400_000 - 60_000);
    const secrets = await service.query<{ expires_at: Date | null }>(
      'SELECT expires_at FROM webhook_secrets WHERE endpoint_id = $1 ORDER BY created_at',
      [endpoint.id],
    );
    expect(secrets.map((row) => row.expires_at === null)).toEqual([false, true]);

    // A second rotation drops the oldest: at most the current and one previous secret.
    await erin.rotate(endpoint.id);
    const after = await service.query('SELECT 1 FROM webhook_secrets WHERE endpoint_id = $1', [endpoint.id]);
    expect(after).toHaveLength(2);
  });

  it("When another user's endpoint id is used, then every RPC answers NOT_FOUND and the endpoint is untouched", async () => {
    const owner = service.as(randomUUID());
    const intruder = service.as(randomUUID());
    const { endpoint } = await owner.create(valid());
    const fakeDelivery = randomUUID();

    const calls = [
      intruder.get(endpoint.id),
      intruder.update({ id: endpoint.id, description: 'stolen' }),
      intruder.remove(endpoint.id),
      intruder.rotate(endpoint.id),
      intruder.deliveries(endpoint.id),
      intruder.delivery(endpoint.id, fakeDelivery),
      intruder.replay(endpoint.id, fakeDelivery),
      intruder.test(endpoint.id),
    ];
    for (const call of calls) expect((await failure(call)).code).toBe('NOT_FOUND');

    expect((await intruder.list()).endpoints).toEqual([]);
    expect((await owner.get(endpoint.id)).endpoint).toEqual(endpoint);
    expect(
      await service.query('SELECT 1 FROM webhook_secrets WHERE endpoint_id = $1', [endpoint.id]),
    ).toHaveLength(1);
  });

  it('When ids are malformed or no principal comes with the call, then VALIDATION_FAILED or UNAUTHENTICATED', async () => {
    const frank = service.as(randomUUID());

    expect((await failure(frank.get('not-a-uuid'))).fields).toEqual([
      { field: 'id', message: 'must be a UUID' },
    ]);
    expect((await failure(frank.delivery(randomUUID(), 'x'))).code).toBe('NOT_FOUND');
    expect((await failure(callUnary(service.anonymous, 'ListWebhookEndpoints', {}))).code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('When an endpoint is deleted, then its secrets go with it and it is NOT_FOUND afterwards', async () => {
    const gina = service.as(randomUUID());
    const { endpoint } = await gina.create(valid());

    await gina.remove(endpoint.id);

    expect((await failure(gina.get(endpoint.id))).code).toBe('NOT_FOUND');
    expect((await failure(gina.remove(endpoint.id))).code).toBe('NOT_FOUND');
    expect(
      await service.query('SELECT 1 FROM webhook_secrets WHERE endpoint_id = $1', [endpoint.id]),
    ).toHaveLength(0);
  });
});
