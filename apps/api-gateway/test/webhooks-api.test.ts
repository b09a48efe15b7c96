import { randomUUID } from 'node:crypto';
import { SCOPES } from '@te/platform';
import { waitFor, openTestPool } from '@te/testing';
import { call, register, type RunningGateway, type Session } from './support/gateway.harness.js';
import type { IntegrationServiceProcess } from './support/integration-service.process.js';
import { startIntegrationsStack, type IntegrationsStack } from './support/integrations.harness.js';

// /api/v1/webhooks end to end: HTTP → the gateway (auth, scopes, validation) → the built
// integration-service process over gRPC (real PostgreSQL, Redis, RabbitMQ) → a receiver on loopback.

interface Webhook {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
}
interface Delivery {
  id: string;
  message_id: string;
  event_type: string;
  status: string;
  payload: { type: string; data: Record<string, unknown> };
  attempts: { succeeded: boolean; response_status: number | null; response_excerpt: string }[];
}

let stack: IntegrationsStack;
let integrationService: IntegrationServiceProcess | undefined;
let gateway: RunningGateway;
const receivedIds: string[] = [];
let alice: Session;
let bob: Session;

const bearer = (session: Session) => ({ authorization: `Bearer ${session.access_token}` });
const hookUrl = () => `${stack.receiverUrl}/hook`;

beforeAll(async () => {
  stack = await startIntegrationsStack(
    (req, res) => {
      receivedIds.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    },
    () => ({ WEBHOOK_MAX_ENDPOINTS_PER_USER: '5' }),
  );
  ({ integrationService, gateway, alice, bob } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function create(session: Session, body: Record<string, unknown> = {}) {
  return call<{ webhook: Webhook; secret: string }>(gateway.baseUrl, 'POST', '/api/v1/webhooks', {
    json: { url: 'https://hooks.example.com/te', event_types: ['context.message.created'], ...body },
    headers: bearer(session),
  });
}

describe('/api/v1/webhooks', () => {
  test('When a webhook is created, then 201 with the secret once; reads never show it again', async () => {
    const created = await create(alice, { description: 'CI notifications' });

    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { webhook, secret } = created.body.data!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhook).toEqual({
      id: expect.any(String),
      url: 'https://hooks.example.com/te',
      description: 'CI notifications',
      event_types: ['context.message.created'],
      enabled: true,
      disabled_reason: null,
      disabled_at: null,
      previous_secret_expires_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const listed = await call<{ webhooks: Webhook[] }>(gateway.baseUrl, 'GET', '/api/v1/webhooks', {
      headers: bearer(alice),
    });
    const got = await call<{ webhook: Webhook }>(gateway.baseUrl, 'GET', `/api/v1/webhooks/${webhook.id}`, {
      headers: bearer(alice),
    });
    expect(listed.body.data!.webhooks.map((w) => w.id)).toContain(webhook.id);
    expect(got.body.data!.webhook).toEqual(webhook);
    expect(JSON.stringify([listed.body, got.body])).not.toContain(secret.slice(6));
    const stored = openTestPool(integrationService!.databaseUrl, 1);
    try {
      const dump = JSON.stringify(
        (await stored.query("SELECT encode(ciphertext, 'escape') AS c FROM webhook_secrets")).rows,
      );
      expect(dump).not.toContain(secret.slice(6));
    } finally {
      await stored.end();
    }
  });

  test('When a webhook is updated, rotated and deleted, then each answer says so; afterwards it is 404', async () => {
    const { webhook, secret } = (await create(alice)).body.data!;
    const path = `/api/v1/webhooks/${webhook.id}`;

    const patched = await call<{ webhook: Webhook }>(gateway.baseUrl, 'PATCH', path, {
      json: { event_types: ['*'], enabled: false },
      headers: bearer(alice),
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data!.webhook).toMatchObject({
      event_types: ['*'],
      enabled: false,
      url: webhook.url,
    });

    const rotated = await call<{ webhook: Webhook; secret: string }>(
      gateway.baseUrl,
      'POST',
      `${path}/rotate-secret`,
      { headers: bearer(alice) },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(rotated.body.data!.secret).toMatch(/^whsec_/);
    expect(rotated.body.data!.secret).not.toBe(secret);
    expect(Date.parse(rotated.body.data!.webhook.previous_secret_expires_at!)).toBeGreaterThan(
      Date.now() + 23 * 3600_000,
    );

    const deleted = await fetch(`${gateway.baseUrl}${path}`, { method: 'DELETE', headers: bearer(alice) });
    expect(deleted.status).toBe(204);
    expect((await call(gateway.baseUrl, 'GET', path, { headers: bearer(alice) })).status).toBe(404);
  });

  test('When a test event is sent, then 202 with the pending delivery; the log shows it delivered', async () => {
    const { webhook } = (await create(alice, { url: hookUrl(), event_types: ['ai.inference.completed'] }))
      .body.data!;

    const sent = await call<{ delivery: Delivery }>(
      gateway.baseUrl,
      'POST',
      `/api/v1/webhooks/${webhook.id}/test`,
      { headers: bearer(alice) },
    );

    expect(sent.status).toBe(202);
    expect(sent.body.data!.delivery).toMatchObject({ status: 'pending', event_type: 'webhook.test' });
    const log = await waitFor(
      async () => {
        const page = await call<{ deliveries: Delivery[]; next_page_token: string | null }>(
          gateway.baseUrl,
          'GET',
          `/api/v1/webhooks/${webhook.id}/deliveries?page_size=10`,
          { headers: bearer(alice) },
        );
        return page.body.data!.deliveries[0]?.status === 'succeeded' && page.body.data!;
      },
      { timeoutMs: 20_000, description: 'the test delivery to succeed' },
    );
    const [delivery] = log.deliveries;
    expect(log.next_page_token).toBeNull();
    expect(delivery!.payload).toMatchObject({ type: 'webhook.test', data: { endpoint_id: webhook.id } });
    expect(delivery!.attempts).toEqual([
      expect.objectContaining({ succeeded: true, response_status: 204, response_excerpt: '' }),
    ]);
    expect(receivedIds).toContain(delivery!.message_id);

    const one = await call<{ delivery: Delivery }>(
      gateway.baseUrl,
      'GET',
      `/api/v1/webhooks/${webhook.id}/deliveries/${delivery!.id}`,
      { headers: bearer(alice) },
    );
    expect(one.body.data!.delivery).toEqual(delivery);
    const replayed = await call<{ delivery: Delivery }>(
      gateway.baseUrl,
      'POST',
      `/api/v1/webhooks/${webhook.id}/deliveries/${delivery!.id}/replay`,
      { headers: bearer(alice) },
    );
    expect([replayed.status, replayed.body.data!.delivery.message_id]).toEqual([202, delivery!.message_id]);
    await waitFor(() => receivedIds.filter((id) => id === delivery!.message_id).length === 2, {
      timeoutMs: 20_000,
      description: 'the replay to arrive',
    });
  });

  test('When the input is invalid, then 400 names the fields (the gateway’s and the service’s)', async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ url: 'http://hooks.example.com/' }, ['url']],
      [{ url: 'https://10.1.2.3/' }, ['url']],
      [{ event_types: ['user.deleted'] }, ['event_types']],
      [{ event_types: 'context.message.created' }, ['event_types']],
      [{ url: 42 }, ['url']],
      [{ secret: 'whsec_mine', id: randomUUID() }, ['secret', 'id']],
    ];
    for (const [body, fields] of cases) {
      const response = await create(alice, body);
      expect([response.status, response.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(response.body.error!.fields!.map((f) => f.field).sort()).toEqual([...fields].sort());
    }
    const badPage = await call(
      gateway.baseUrl,
      'GET',
      `/api/v1/webhooks/${randomUUID()}/deliveries?page_size=0`,
      {
        headers: bearer(alice),
      },
    );
    expect(badPage.status).toBe(400);
    const badId = await call(gateway.baseUrl, 'GET', '/api/v1/webhooks/not-a-uuid', {
      headers: bearer(alice),
    });
    expect([badId.status, badId.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  test("When another user's webhook id is used, then 404 on every route and it is untouched", async () => {
    const { webhook } = (await create(bob, { description: 'bob only' })).body.data!;
    const base = `/api/v1/webhooks/${webhook.id}`;
    const attempts: [string, string, unknown?][] = [
      ['GET', base],
      ['PATCH', base, { description: 'mine now' }],
      ['DELETE', base],
      ['POST', `${base}/rotate-secret`],
      ['POST', `${base}/test`],
      ['GET', `${base}/deliveries`],
      ['GET', `${base}/deliveries/${randomUUID()}`],
      ['POST', `${base}/deliveries/${randomUUID()}/replay`],
    ];
    for (const [method, path, json] of attempts) {
      const response = await fetch(`${gateway.baseUrl}${path}`, {
        method,
        headers: { ...bearer(alice), ...(json ? { 'content-type': 'application/json' } : {}) },
        ...(json ? { body: JSON.stringify(json) } : {}),
      });
      expect([method, path, response.status]).toEqual([method, path, 404]);
      expect(await response.text()).not.toContain('bob only');
    }
    const mine = await call<{ webhook: Webhook }>(gateway.baseUrl, 'GET', base, { headers: bearer(bob) });
    expect(mine.body.data!.webhook).toMatchObject({ description: 'bob only', enabled: true });
  });

  test('When an API key lacks webhooks:read or webhooks:write, then 403 insufficient_scope', async () => {
    const key = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
      json: { name: 'read only', scopes: [SCOPES.webhooksRead] },
      headers: bearer(alice),
    });
    expect(key.status).toBe(201);
    const headers = { 'x-api-key': key.body.data!.secret };

    const listed = await call(gateway.baseUrl, 'GET', '/api/v1/webhooks', { headers });
    const created = await call(gateway.baseUrl, 'POST', '/api/v1/webhooks', {
      json: { url: 'https://hooks.example.com/', event_types: ['*'] },
      headers,
    });

    expect(listed.status).toBe(200);
    expect([created.status, created.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    expect(created.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await call(gateway.baseUrl, 'GET', '/api/v1/webhooks')).status).toBe(401);
  });

  test('When the per-user cap is reached, then 409', async () => {
    const { body } = await register(gateway.baseUrl);
    const carol = body.data!;
    for (let i = 0; i < 5; i += 1) expect((await create(carol)).status).toBe(201);

    const refused = await create(carol);

    expect([refused.status, refused.body.error?.code]).toEqual([409, 'CONFLICT']);
  });
});
