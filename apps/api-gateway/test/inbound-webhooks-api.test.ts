import { createHmac, randomUUID } from 'node:crypto';
import pg from 'pg';
import { freePort, openTestPool } from '@te/testing';
import { call, startGateway, type RunningGateway } from './support/gateway.harness.js';
import { IntegrationServiceProcess } from './support/integration-service.process.js';

// End to end over real HTTP and gRPC: a third party's signed delivery → the gateway (raw body, no user
// credential) → the built integration-service process, which verifies it and writes
// integration.inbound.received to its outbox.

const GITHUB_SECRET = `gh-${randomUUID()}`;
const GATEWAY_LIMIT = 16 * 1024;
const PATH = '/api/v1/integrations/inbound';

let integrationService: IntegrationServiceProcess | undefined;
let gateway: RunningGateway;
let db: pg.Pool;

/** GitHub's documented scheme (the service's tests sign with @octokit/webhooks-methods itself). */
const githubSignature = (body: string, secret = GITHUB_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const githubHeaders = (body: string, secret?: string) => ({
  'content-type': 'application/json',
  'user-agent': 'GitHub-Hookshot/044aadd',
  'x-github-event': 'issues',
  'x-github-delivery': randomUUID(),
  'x-hub-signature-256': githubSignature(body, secret),
});

// Spaces, a tab, a newline, key order and a non-ASCII character: any re-serialisation changes the bytes.
const unusualBody = (marker: string) =>
  `{ "zeta" : 1,\n\t"action":"opened" ,  "issue": {"title":"Grüße ${marker}"}, "n": 1.50 }`;

interface Received {
  received: boolean;
  duplicate: boolean;
  message_id: string;
}

beforeAll(async () => {
  integrationService = await IntegrationServiceProcess.create({
    INBOUND_SOURCES: 'github-main',
    INBOUND_SOURCE_GITHUB_MAIN_KIND: 'github',
    INBOUND_SOURCE_GITHUB_MAIN_SECRET: GITHUB_SECRET,
  });
  await integrationService.start();
  // No user-service: this route needs no user credential (the gateway is not "ready" without signing
  // keys, but it serves; nothing here depends on them).
  gateway = await startGateway(
    `127.0.0.1:${await freePort()}`,
    {
      INTEGRATION_SERVICE_ADDR: integrationService.address,
      INBOUND_WEBHOOK_MAX_BYTES: String(GATEWAY_LIMIT),
      GRPC_DEADLINE_MS: '10000',
    },
    { waitUntilReady: false },
  );
  db = openTestPool(integrationService.databaseUrl, 2);
}, 180_000);

afterAll(async () => {
  await db?.end();
  await gateway?.stop();
  await integrationService?.dispose();
}, 60_000);

const eventsWritten = async (messageId: string) =>
  (
    await db.query(
      `SELECT envelope FROM outbox_events
        WHERE type = 'integration.inbound.received' AND envelope->'data'->>'message_id' = $1`,
      [messageId],
    )
  ).rows as { envelope: { data: Record<string, unknown> } }[];

describe('POST /api/v1/integrations/inbound/:source', () => {
  test('When GitHub posts a signed delivery, then the exact bytes verify, 200 { received } and one event is written', async () => {
    const body = unusualBody('accepted');
    const headers = githubHeaders(body);

    const response = await call<Received>(gateway.baseUrl, 'POST', `${PATH}/github-main`, {
      headers,
      rawBody: body,
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      success: true,
      data: { received: true, duplicate: false, message_id: headers['x-github-delivery'] },
      error: null,
    });
    const written = await eventsWritten(headers['x-github-delivery']);
    expect(written).toHaveLength(1);
    expect(written[0]!.envelope.data).toMatchObject({
      source: 'github-main',
      kind: 'github',
      event_type: 'issues',
      payload: { zeta: 1, action: 'opened', issue: { title: 'Grüße accepted' }, n: 1.5 },
    });
  });

  test('When GitHub redelivers the same delivery, then 200 with duplicate true and still one event', async () => {
    const body = unusualBody('redelivered');
    const headers = githubHeaders(body);
    await call(gateway.baseUrl, 'POST', `${PATH}/github-main`, { headers, rawBody: body });

    const again = await call<Received>(gateway.baseUrl, 'POST', `${PATH}/github-main`, {
      headers,
      rawBody: body,
    });

    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({
      received: true,
      duplicate: true,
      message_id: headers['x-github-delivery'],
    });
    expect(await eventsWritten(headers['x-github-delivery'])).toHaveLength(1);
  });

  test('When the signature does not match (another secret, a changed body, none), then 401 in the envelope and no event', async () => {
    const body = unusualBody('refused');
    const good = githubHeaders(body);
    const { 'x-hub-signature-256': _signature, ...unsigned } = good;
    const attempts: [Record<string, string>, string][] = [
      [githubHeaders(body, 'not-the-secret'), body],
      [good, JSON.stringify(JSON.parse(body))],
      [unsigned, body],
    ];

    for (const [headers, sent] of attempts) {
      const response = await call(gateway.baseUrl, 'POST', `${PATH}/github-main`, { headers, rawBody: sent });

      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ success: false, data: null, error: { code: 'UNAUTHENTICATED' } });
    }
    expect(await eventsWritten(good['x-github-delivery'])).toHaveLength(0);
  });

  test('When the source is not configured (or not a source name), then 404 in the envelope', async () => {
    const body = unusualBody('nowhere');

    for (const source of ['gitlab', 'GitHub-Main', 'a'.repeat(40)]) {
      const response = await call(gateway.baseUrl, 'POST', `${PATH}/${source}`, {
        headers: githubHeaders(body),
        rawBody: body,
      });

      expect(response.status).toBe(404);
      expect(response.body.error?.code).toBe('NOT_FOUND');
    }
  });

  test('When the body is over INBOUND_WEBHOOK_MAX_BYTES, then 413 in the envelope', async () => {
    const body = `{"pad":"${'x'.repeat(GATEWAY_LIMIT)}"}`;

    const response = await call(gateway.baseUrl, 'POST', `${PATH}/github-main`, {
      headers: githubHeaders(body),
      rawBody: body,
    });

    expect(response.status).toBe(413);
    expect(response.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('When a signed body is form-encoded rather than JSON, then 400 naming the body', async () => {
    const body = `payload=${encodeURIComponent(unusualBody('form'))}`;

    const response = await call(gateway.baseUrl, 'POST', `${PATH}/github-main`, {
      headers: { ...githubHeaders(body), 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: body,
    });

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'body' }] });
  });
});
