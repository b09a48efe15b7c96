import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SCOPES } from '@te/platform';
import { waitFor } from '@te/testing';
import { call, type RunningGateway, type Session } from './support/gateway.harness.js';
import type { IntegrationServiceProcess } from './support/integration-service.process.js';
import { startIntegrationsStack, type IntegrationsStack } from './support/integrations.harness.js';

// /api/v1/connectors end to end: HTTP → the gateway (auth, scopes, validation) → the built
// integration-service process over gRPC (real PostgreSQL, Redis, RabbitMQ) → a server on loopback
// that answers as Slack's incoming webhooks do.

interface Connector {
  id: string;
  kind: string;
  name: string;
  event_types: string[];
  enabled: boolean;
  settings: { url?: string; auth_header?: string | null };
  has_credential: boolean;
  credential_hint: string | null;
  disabled_reason: string | null;
}
interface Delivery {
  id: string;
  connector_id: string;
  event_type: string;
  status: string;
  attempts: { succeeded: boolean; response_status: number | null }[];
}

let stack: IntegrationsStack;
let integrationService: IntegrationServiceProcess | undefined;
let gateway: RunningGateway;
const slackTexts: string[] = [];
let alice: Session;
let bob: Session;

const bearer = (session: Session) => ({ authorization: `Bearer ${session.access_token}` });
const slackBase = () => `${stack.receiverUrl}/services/`;
const slackHook = () => `${slackBase()}T0001/B0001/${randomUUID().replaceAll('-', '').slice(0, 24)}`;

beforeAll(async () => {
  stack = await startIntegrationsStack(
    (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        slackTexts.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    },
    (receiverUrl) => ({ CONNECTOR_SLACK_WEBHOOK_PREFIXES: `${receiverUrl}/services/` }),
  );
  ({ integrationService, gateway, alice, bob } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

function create(session: Session, body: Record<string, unknown>) {
  return call<{ connector: Connector }>(gateway.baseUrl, 'POST', '/api/v1/connectors', {
    json: body,
    headers: bearer(session),
  });
}

describe('/api/v1/connectors', () => {
  test('When connectors are created, read, updated, tested and deleted, then no answer ever carries a credential', async () => {
    const hook = slackHook();
    const token = `tok_${randomUUID().replaceAll('-', '')}`;
    const created = await create(alice, {
      kind: 'slack',
      name: 'team channel',
      event_types: ['context.message.created'],
      credential: hook,
    });
    const httpCreated = await create(alice, {
      kind: 'http',
      name: 'crm',
      event_types: ['*'],
      settings: { url: 'https://api.example.com/events', auth_header: 'X-Api-Key' },
      credential: token,
    });

    expect(created.status).toBe(201);
    const { connector } = created.body.data!;
    expect(connector).toEqual({
      id: expect.any(String),
      kind: 'slack',
      name: 'team channel',
      event_types: ['context.message.created'],
      enabled: true,
      settings: {},
      has_credential: true,
      credential_hint: `…${hook.slice(-4)}`,
      disabled_reason: null,
      disabled_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(httpCreated.status).toBe(201);
    expect(httpCreated.body.data!.connector).toMatchObject({
      kind: 'http',
      settings: { url: 'https://api.example.com/events', auth_header: 'x-api-key' },
      credential_hint: `…${token.slice(-4)}`,
    });

    const path = `/api/v1/connectors/${connector.id}`;
    const listed = await call<{ connectors: Connector[] }>(gateway.baseUrl, 'GET', '/api/v1/connectors', {
      headers: bearer(alice),
    });
    const got = await call<{ connector: Connector }>(gateway.baseUrl, 'GET', path, {
      headers: bearer(alice),
    });
    expect(listed.body.data!.connectors.map((c) => c.id)).toEqual([
      httpCreated.body.data!.connector.id,
      connector.id,
    ]);
    expect(got.body.data!.connector).toEqual(connector);

    const patched = await call<{ connector: Connector }>(gateway.baseUrl, 'PATCH', path, {
      json: { name: 'renamed', event_types: ['*'] },
      headers: bearer(alice),
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data!.connector).toMatchObject({
      name: 'renamed',
      event_types: ['*'],
      has_credential: true,
    });

    const tested = await call<{ delivery: Delivery }>(gateway.baseUrl, 'POST', `${path}/test`, {
      headers: bearer(alice),
    });
    expect(tested.status).toBe(202);
    expect(tested.body.data!.delivery).toMatchObject({
      connector_id: connector.id,
      event_type: 'connector.test',
      status: 'pending',
    });
    await waitFor(() => slackTexts.includes('Test message from TE-explico: this Slack connector works.'), {
      timeoutMs: 20_000,
      description: 'the test message to reach Slack',
    });
    const log = await waitFor(
      async () => {
        const page = await call<{ deliveries: Delivery[]; next_page_token: string | null }>(
          gateway.baseUrl,
          'GET',
          `${path}/deliveries?page_size=10`,
          { headers: bearer(alice) },
        );
        return page.body.data?.deliveries[0]?.status === 'succeeded' && page;
      },
      { timeoutMs: 20_000, description: 'the test delivery to succeed' },
    );
    expect(log.body.data!.deliveries[0]!.attempts[0]).toMatchObject({
      succeeded: true,
      response_status: 200,
    });
    expect(log.body.data!.next_page_token).toBeNull();

    const answers = JSON.stringify([
      created.body,
      httpCreated.body,
      listed.body,
      got.body,
      patched.body,
      log.body,
    ]);
    for (const secret of [hook, hook.split('/').at(-1)!, token]) expect(answers).not.toContain(secret);
    const stored = new pg.Pool({ connectionString: integrationService!.databaseUrl, max: 1 });
    try {
      const dump = JSON.stringify((await stored.query('SELECT * FROM connectors')).rows);
      for (const secret of [hook.split('/').at(-1)!, token]) expect(dump).not.toContain(secret);
    } finally {
      await stored.end();
    }

    const deleted = await fetch(`${gateway.baseUrl}${path}`, { method: 'DELETE', headers: bearer(alice) });
    expect(deleted.status).toBe(204);
    const gone = await call(gateway.baseUrl, 'GET', path, { headers: bearer(alice) });
    expect([gone.status, gone.body.error?.code]).toEqual([404, 'NOT_FOUND']);
  });

  test('When the body is invalid, then 400 names the fields, before or after the service', async () => {
    const unknownMember = await create(alice, {
      kind: 'slack',
      name: 'x',
      event_types: ['*'],
      credential: slackHook(),
      secret: 'x',
    });
    expect(unknownMember.status).toBe(400);
    expect(unknownMember.body.error?.fields).toEqual([{ field: 'secret', message: 'is not allowed' }]);

    const wrongType = await create(alice, { kind: 'slack', name: 42, event_types: '*' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error?.fields?.map((f) => f.field).sort()).toEqual(['event_types', 'name']);

    const notSlack = 'https://evil.example.com/services/T1/B1/abcdefgh1234';
    const refused = await create(alice, {
      kind: 'slack',
      name: 'x',
      event_types: ['*'],
      credential: notSlack,
    });
    expect([refused.status, refused.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(refused.body.error?.fields?.map((f) => f.field)).toEqual(['credential']);
    expect(JSON.stringify(refused.body)).not.toContain(notSlack);

    const badHttp = await create(alice, {
      kind: 'http',
      name: 'x',
      event_types: ['nope'],
      settings: { url: 'http://api.example.com/', auth_header: 'content-type' },
    });
    expect(badHttp.status).toBe(400);
    expect(badHttp.body.error?.fields?.map((f) => f.field).sort()).toEqual([
      'event_types',
      'settings.auth_header',
      'settings.url',
    ]);
    const badId = await call(gateway.baseUrl, 'GET', '/api/v1/connectors/not-a-uuid', {
      headers: bearer(alice),
    });
    expect(badId.status).toBe(400);
  });

  test("When another user's connector is named, then 404 on every route and it is untouched", async () => {
    const hook = slackHook();
    const bobs = (
      await create(bob, { kind: 'slack', name: 'bob only', event_types: ['*'], credential: hook })
    ).body.data!.connector;
    const base = `/api/v1/connectors/${bobs.id}`;

    for (const [method, path, json] of [
      ['GET', base, undefined],
      ['PATCH', base, { name: 'stolen', credential: slackHook() }],
      ['DELETE', base, undefined],
      ['POST', `${base}/test`, undefined],
      ['GET', `${base}/deliveries`, undefined],
    ] as const) {
      const response = await call(gateway.baseUrl, method, path, {
        headers: bearer(alice),
        ...(json && { json }),
      });
      expect([method, path, response.status, response.body.error?.code]).toEqual([
        method,
        path,
        404,
        'NOT_FOUND',
      ]);
      expect(JSON.stringify(response.body)).not.toContain('bob only');
    }
    const mine = await call<{ connector: Connector }>(gateway.baseUrl, 'GET', base, { headers: bearer(bob) });
    expect(mine.body.data!.connector).toMatchObject({
      name: 'bob only',
      credential_hint: `…${hook.slice(-4)}`,
    });
  });

  test('When an API key lacks webhooks:write or webhooks:read, then 403 insufficient_scope', async () => {
    const readOnly = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
      json: { name: 'read only', scopes: [SCOPES.webhooksRead] },
      headers: bearer(alice),
    });
    const profileOnly = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
      json: { name: 'profile only', scopes: [SCOPES.profileRead] },
      headers: bearer(alice),
    });
    const reader = { 'x-api-key': readOnly.body.data!.secret };

    const listed = await call(gateway.baseUrl, 'GET', '/api/v1/connectors', { headers: reader });
    const created = await call(gateway.baseUrl, 'POST', '/api/v1/connectors', {
      json: { kind: 'slack', name: 'x', event_types: ['*'], credential: slackHook() },
      headers: reader,
    });
    const unreadable = await call(gateway.baseUrl, 'GET', '/api/v1/connectors', {
      headers: { 'x-api-key': profileOnly.body.data!.secret },
    });

    expect(listed.status).toBe(200);
    expect([created.status, created.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    expect(created.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(unreadable.status).toBe(403);
    expect((await call(gateway.baseUrl, 'GET', '/api/v1/connectors')).status).toBe(401);
  });
});
