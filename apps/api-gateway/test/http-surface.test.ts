import { randomUUID } from 'node:crypto';
import {
  ALLOWED_ORIGIN,
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// What every client and every probe sees of the gateway besides the business answers.
let userService: UserServiceProcess | undefined;
let gateway: RunningGateway;

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  await userService.start();
  gateway = await startGateway(userService.address);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
}, 60_000);

const get = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });

async function metricsText(): Promise<string> {
  const response = await get(`${gateway.opsUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** The `_count` samples of the request-duration histogram, as label sets. */
function requestCounts(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('http_server_request_duration_seconds_count{'))
    .map((line) => {
      const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
      return Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    });
}

describe('routing', () => {
  test('When a route does not exist, then 404 NOT_FOUND in the envelope, not Express’s HTML page', async () => {
    const { status, headers, body } = await call(
      gateway.baseUrl,
      'GET',
      `/api/v1/nothing-here/${randomUUID()}`,
    );

    expect(status).toBe(404);
    expect(headers.get('content-type')).toContain('application/json');
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'NOT_FOUND' } });
    expect(body.metadata.request_id).toBe(headers.get('x-request-id'));
  });

  test('When a known path is called with the wrong method, then 405 in the envelope with the methods it allows', async () => {
    const register = await call(gateway.baseUrl, 'DELETE', '/api/v1/auth/register');
    expect(register.status).toBe(405);
    expect(register.headers.get('allow')).toBe('POST');
    expect(register.body).toMatchObject({ success: false, error: { code: 'METHOD_NOT_ALLOWED' } });

    // A path with a parameter, in another case (Express matches case-insensitively), GET → HEAD too.
    const session = await call(gateway.baseUrl, 'PUT', `/API/v1/sessions/${randomUUID()}`);
    expect(session.status).toBe(405);
    expect(session.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
  });

  test('When a path is unknown whatever the method, then 404 (not 405)', async () => {
    const { status, body } = await call(gateway.baseUrl, 'DELETE', `/api/v1/sessions/${randomUUID()}/nope`);
    expect(status).toBe(404);
    expect(body.error?.code).toBe('NOT_FOUND');
  });

  test('When HEAD is sent, then the status matches GET and no body comes back', async () => {
    const health = await get(`${gateway.baseUrl}/healthz`, { method: 'HEAD' });
    const me = await get(`${gateway.baseUrl}/api/v1/users/me`, { method: 'HEAD' });

    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    expect(me.status).toBe(401);
    expect(me.headers.get('x-request-id')).toBeTruthy();
    expect(await me.text()).toBe('');
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    get(`${gateway.baseUrl}/api/v1/auth/login`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });

  test('When an allowed origin preflights, then 204 allows it with POST and content-type', async () => {
    const response = await preflight(ALLOWED_ORIGIN);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(await response.text()).toBe('');
  });

  test('When an allowed origin calls the API, then the answer allows it and exposes X-Request-Id', async () => {
    const { status, headers } = await register(gateway.baseUrl, newCredentials('cors'), {
      origin: ALLOWED_ORIGIN,
    });

    expect(status).toBe(201);
    expect(headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    expect(headers.get('vary')).toContain('Origin');
  });

  test('When a foreign origin preflights or calls, then no Access-Control-Allow-Origin is given', async () => {
    const foreign = 'https://evil.example';

    const pre = await preflight(foreign);
    const { headers } = await call(gateway.baseUrl, 'GET', '/api/v1/users/me', {
      headers: { origin: foreign },
    });

    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('headers', () => {
  test('When the API answers (success or error), then helmet’s security headers are set and nothing reveals Express', async () => {
    const success = await register(gateway.baseUrl, newCredentials('helmet'));
    const failure = await call(gateway.baseUrl, 'GET', '/api/v1/users/me');

    for (const { headers } of [success, failure]) {
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('strict-transport-security')).toContain('max-age=');
      expect(headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-powered-by')).toBeNull();
    }
  });

  test('When anything under /api answers, then Cache-Control is no-store; the JWKS is publicly cacheable', async () => {
    const created = await register(gateway.baseUrl, newCredentials('cache'));
    const unauthorised = await call(gateway.baseUrl, 'GET', '/api/v1/users/me');
    const missing = await call(gateway.baseUrl, 'GET', '/api/v1/missing');
    const jwks = await get(`${gateway.baseUrl}/.well-known/jwks.json`);

    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(unauthorised.headers.get('cache-control')).toBe('no-store');
    expect(missing.headers.get('cache-control')).toBe('no-store');
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    expect(((await jwks.json()) as { keys: unknown[] }).keys).toHaveLength(1);
  });
});

describe('probes', () => {
  test('When the public /healthz and /readyz are probed, then they answer without any check details', async () => {
    const health = await get(`${gateway.baseUrl}/healthz`);
    const ready = await get(`${gateway.baseUrl}/readyz`);

    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(ready.status).toBe(200);
    const text = await ready.text();
    expect(JSON.parse(text)).toEqual({ ready: true });
    expect(text).not.toContain('user-service');
  });

  test('When the ops /readyz is probed, then it lists Redis and signing-keys (deciding), user-service and RabbitMQ (reported only)', async () => {
    const response = await get(`${gateway.opsUrl}/readyz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ready: true,
      checks: {
        redis: { ok: true, duration_ms: expect.any(Number) },
        rabbitmq: { ok: true, critical: false, duration_ms: expect.any(Number) },
        'user-service': { ok: true, critical: false, duration_ms: expect.any(Number) },
        // No context-, ai-gateway- or integration-service runs in this file: reported as down, and
        // readiness still holds.
        'context-service': expect.objectContaining({ ok: false, critical: false }),
        'ai-gateway-service': expect.objectContaining({ ok: false, critical: false }),
        'integration-service': expect.objectContaining({ ok: false, critical: false }),
        'signing-keys': { ok: true, duration_ms: expect.any(Number) },
      },
    });
    expect((await get(`${gateway.opsUrl}/healthz`)).status).toBe(200);
  });

  test('When the public port is asked for /metrics, then it is not there', async () => {
    const { status } = await call(gateway.baseUrl, 'GET', '/metrics');

    expect(status).toBe(404);
  });
});

describe('metrics', () => {
  test('When requests are served, then the duration histogram is labelled by route template, never by raw ids', async () => {
    const { body } = await register(gateway.baseUrl, newCredentials('metrics'));
    await call(gateway.baseUrl, 'GET', '/api/v1/users/me', {
      headers: { authorization: `Bearer ${body.data!.access_token}` },
    });
    const rawId = randomUUID();
    await call(gateway.baseUrl, 'GET', `/api/v1/users/${rawId}`);

    const text = await metricsText();
    const counts = requestCounts(text);

    expect(counts).toContainEqual({ method: 'POST', route: '/api/v1/auth/register', status_code: '201' });
    expect(counts).toContainEqual({ method: 'GET', route: '/api/v1/users/me', status_code: '200' });
    expect(counts).toContainEqual({ method: 'GET', route: 'unmatched', status_code: '404' });
    expect(text).not.toContain(rawId);
    expect(text).not.toContain(body.data!.user.id);
    expect(text).toMatch(/grpc_client_handling_seconds_count\{[^}]*method="Register"[^}]*code="OK"/);
  });

  // Express restores req.baseUrl before the error handler answers; the label must keep its mount path.
  test('When a routed request fails (400, 401), then its route label is still the full template', async () => {
    await call(gateway.baseUrl, 'POST', '/api/v1/auth/register', { json: {} });
    await call(gateway.baseUrl, 'GET', '/api/v1/users/me');

    const counts = requestCounts(await metricsText());

    expect(counts).toContainEqual({ method: 'POST', route: '/api/v1/auth/register', status_code: '400' });
    expect(counts).toContainEqual({ method: 'GET', route: '/api/v1/users/me', status_code: '401' });
  });

  // Routers trim req.url while they run; the access log keeps the path the client asked for.
  test('When a routed request succeeds, then the access log line has the full path', async () => {
    const requestId = `path-${randomUUID()}`;
    await register(gateway.baseUrl, newCredentials('path'), { 'x-request-id': requestId });

    const line = gateway.logs
      .lines()
      .find((l) => l['message'] === 'request' && l['request_id'] === requestId);

    expect(line).toMatchObject({
      path: '/api/v1/auth/register',
      route: '/api/v1/auth/register',
      status: 201,
    });
  });
});
