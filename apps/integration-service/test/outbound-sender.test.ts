import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { OutboundHttpSender } from '../src/outbound/index.js';
import {
  generateWebhookSecret,
  newWebhookMessageId,
  webhookHeaders,
} from '../src/webhooks/standard-webhooks.js';

/** The outbound sender against real HTTP(S) receivers on loopback, allowlisted as tests must be. */

// Test-only, self-signed for localhost and 127.0.0.1 (P-256, valid until 2126). Not a secret.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgca3IG9pUxsqx6Jcj
eK+Q+mLctCl8+P1DYbcye2dIhaihRANCAARTWcC1dT3e8kag0yY2yAn1oNXcAB8A
ayrk5yg/9urzDfHLVojT0sXkbxuKxJbxEUhRN1j8xeeANwTM5vkWqho1
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUaZx7aki22OTqa81/b4MDW9BUwH0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTEwNDk0NFoYDzIxMjYxMTAx
MTA0OTQ0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARTWcC1dT3e8kag0yY2yAn1oNXcAB8Aayrk5yg/9urzDfHLVojT0sXk
bxuKxJbxEUhRN1j8xeeANwTM5vkWqho1o28wbTAdBgNVHQ4EFgQUvlmulOKnkvVy
nsKOPJ+8EmYX144wHwYDVR0jBBgwFoAUvlmulOKnkvVynsKOPJ+8EmYX144wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIhAN9FAgLFwbGlgoueZsbq1ESRClfbxAS3cAX3HtmCmhRUAiBf
MazErwK6KL1b7b22/xxpUxksgXb3F4Ichk+fySGTWQ==
-----END CERTIFICATE-----`;

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

async function listen(
  server: http.Server,
  handler: Handler,
): Promise<{ url: string; port: number; hits: string[] }> {
  const hits: string[] = [];
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      handler(req, Buffer.concat(chunks), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, hits };
}

describe('OutboundHttpSender (real receivers on loopback)', () => {
  const servers: http.Server[] = [];
  const receiver = (handler: Handler) => {
    const server = http.createServer();
    servers.push(server);
    return listen(server, handler);
  };
  const sender = (options: ConstructorParameters<typeof OutboundHttpSender>[0] = {}) =>
    new OutboundHttpSender({ allow: ['127.0.0.0/8'], ...options });

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('When a signed webhook is sent to an allowlisted receiver, then it verifies there and the response is reported', async () => {
    const secret = generateWebhookSecret();
    const seen: { verified?: unknown; userAgent?: string; contentType?: string } = {};
    const target = await receiver((req, body, res) => {
      seen.verified = new Webhook(secret).verify(
        body.toString('utf8'),
        req.headers as Record<string, string>,
      );
      seen.userAgent = req.headers['user-agent'];
      seen.contentType = req.headers['content-type'];
      res.writeHead(202, { 'content-type': 'application/json', 'set-cookie': 'session=receiver-private' });
      res.end('{"received":true}');
    });
    const body = JSON.stringify({ type: 'user.registered', data: { user_id: 'u1', name: 'Zoë' } });
    const headers = webhookHeaders({
      id: newWebhookMessageId(),
      timestamp: new Date(),
      body,
      secrets: [secret],
    });

    const result = await sender().send({
      url: `${target.url}/hooks?x=1`,
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });

    expect(result).toMatchObject({
      outcome: 'response',
      status: 202,
      excerpt: '{"received":true}',
      truncated: false,
      remoteAddress: '127.0.0.1',
      headers: expect.objectContaining({ 'content-type': 'application/json' }),
    });
    expect(result.outcome === 'response' && result.headers['set-cookie']).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual({
      verified: { type: 'user.registered', data: { user_id: 'u1', name: 'Zoë' } },
      userAgent: 'te-explico-webhooks/1',
      contentType: 'application/json',
    });
    expect(target.hits).toEqual(['POST /hooks?x=1']);
  });

  it('When the receiver redirects to another (allowlisted) server, then the 302 is returned and not followed', async () => {
    const secretService = await receiver((_req, _body, res) => res.end('internal data'));
    const target = await receiver((_req, _body, res) => {
      res.writeHead(302, { location: `${secretService.url}/admin` });
      res.end();
    });
    const result = await sender().send({ url: `${target.url}/hook`, body: '{}' });
    expect(result).toMatchObject({
      outcome: 'response',
      status: 302,
      headers: expect.objectContaining({ location: `${secretService.url}/admin` }),
    });
    expect(target.hits).toEqual(['POST /hook']);
    expect(secretService.hits).toEqual([]);
  });

  it('When the receiver never answers, then the request times out as a retryable timeout', async () => {
    const target = await receiver(() => undefined); // holds the request open
    const result = await sender({ totalTimeoutMs: 300 }).send({ url: `${target.url}/slow`, body: '{}' });
    expect(result).toMatchObject({
      outcome: 'failure',
      error: 'timeout',
      code: 'total_timeout',
      retryable: true,
    });
    expect(target.hits).toEqual(['POST /slow']);
  });

  it('When the body is far larger than the excerpt, then only the excerpt is read and the rest is never sent', async () => {
    let writerClosed: (finished: boolean) => void;
    const closed = new Promise<boolean>((resolve) => (writerClosed = resolve));
    const target = await receiver((_req, _body, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'é'); // multi-byte characters split across the limit
      let sent = 0;
      const pump = () => {
        while (sent < 1024 && !res.destroyed) {
          sent += 1;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => writerClosed(res.writableFinished));
      pump(); // 64 MiB unless the client stops reading
    });
    const result = await sender({ maxExcerptBytes: 1001 }).send({ url: `${target.url}/big`, body: '{}' });

    expect(result).toMatchObject({ outcome: 'response', status: 500, truncated: true });
    const excerpt = result.outcome === 'response' ? result.excerpt : '';
    expect(excerpt).toBe('é'.repeat(500)); // 1001 bytes: the half character at the cut is dropped
    expect(await closed).toBe(false); // the receiver could not finish: the rest was discarded unread
  });

  it.each([
    ['429', 'Retry-After: 7', { 'retry-after': '7' }, 7_000, 7_000],
    ['503', 'an HTTP date two minutes ahead', { 'retry-after': 'DATE' }, 100_000, 120_000],
    ['410', 'no Retry-After', {}, undefined, undefined],
  ])(
    'When the receiver answers %s with %s, then status and delay are reported',
    async (status, _case, headers, min, max) => {
      const target = await receiver((_req, _body, res) => {
        const retryAfter = (headers as Record<string, string>)['retry-after'];
        const value = retryAfter === 'DATE' ? new Date(Date.now() + 120_000).toUTCString() : retryAfter;
        res.writeHead(Number(status), value ? { 'retry-after': value } : {});
        res.end();
      });
      const result = await sender().send({ url: target.url, body: '{}' });
      expect(result).toMatchObject({ outcome: 'response', status: Number(status) });
      const delay = result.outcome === 'response' ? result.retryAfterMs : 'no response';
      if (min === undefined) expect(delay).toBeUndefined();
      else {
        expect(delay).toBeGreaterThanOrEqual(min);
        expect(delay).toBeLessThanOrEqual(max!);
      }
    },
  );

  it('When nothing listens on the port, then the failure is a retryable connection_error', async () => {
    const target = await receiver(() => undefined);
    servers.pop()!.close();
    await new Promise((resolve) => setImmediate(resolve));
    const result = await sender().send({ url: target.url, body: '{}' });
    expect(result).toMatchObject({
      outcome: 'failure',
      error: 'connection_error',
      code: 'ECONNREFUSED',
      retryable: true,
    });
  });

  it('When DNS does not answer in time, then the connect timeout ends the attempt as a retryable timeout', async () => {
    const silentDns = dgram.createSocket('udp4'); // receives queries, never answers
    await new Promise<void>((resolve) => silentDns.bind(0, '127.0.0.1', resolve));
    const resolver = new dns.Resolver({ timeout: 1_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${silentDns.address().port}`]);
    let queries = 0;
    silentDns.on('message', () => (queries += 1));
    try {
      const result = await sender({ resolver, connectTimeoutMs: 200 }).send({
        url: 'http://hooks.example.test/',
        body: '{}',
      });
      expect(result).toMatchObject({
        outcome: 'failure',
        error: 'timeout',
        code: 'connect_timeout',
        retryable: true,
      });
      expect(queries).toBeGreaterThan(0);
    } finally {
      resolver.cancel();
      silentDns.close();
    }
  });

  it('When loopback is not allowlisted, then even a listening receiver is refused', async () => {
    const target = await receiver((_req, _body, res) => res.end('ok'));
    const result = await new OutboundHttpSender().send({ url: target.url, body: '{}' });
    expect(result).toMatchObject({ outcome: 'failure', error: 'refused_destination' });
    expect(target.hits).toEqual([]);
  });

  describe('over TLS', () => {
    let tlsServer: https.Server;
    let port = 0;
    beforeAll(async () => {
      tlsServer = https.createServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => res.end('secure'));
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
      ({ port } = tlsServer.address() as AddressInfo);
    });
    afterAll(async () => {
      tlsServer.closeAllConnections();
      await new Promise((resolve) => tlsServer.close(resolve));
    });

    it('When the certificate is not trusted, then the failure is tls_error', async () => {
      const result = await sender().send({ url: `https://127.0.0.1:${port}/`, body: '{}' });
      expect(result).toMatchObject({
        outcome: 'failure',
        error: 'tls_error',
        code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      });
    });

    it('When the receiver is allowlisted as host:port and its CA trusted, then localhost is resolved and reached', async () => {
      const result = await new OutboundHttpSender({ allow: [`localhost:${port}`], ca: TEST_CERT }).send({
        url: `https://localhost:${port}/`,
        body: '{}',
      });
      expect(result).toMatchObject({ outcome: 'response', status: 200, excerpt: 'secure' });
    });
  });
});
