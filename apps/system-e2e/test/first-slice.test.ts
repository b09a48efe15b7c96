import { grpcHealthCheck } from '@te/grpc';
import { waitFor } from '@te/testing';
import {
  callApi,
  dataOf,
  newAccount,
  newTraceparent,
  requestIdOf,
  traceIdOf,
  TRACEPARENT,
  type PublicUser,
  type Session,
} from '../src/gateway-client.js';
import { hasMetric, sampleValue } from '../src/prometheus-text.js';
import { gatewayAccessLog, logLine, platformEventsOf, publishedOutboxRows } from '../src/slice-probes.js';
import { BACKENDS, SHUTDOWN_GRACE_MS, SystemStack, type ServiceName } from '../src/system-stack.js';

// The first vertical slice through five real processes (see ../README.md). One stack for the whole
// file: starting it costs 5-20 s on this machine, so tests share it and each arranges its own users.
// The shutdown tests at the end stop it; afterAll removes everything and checks nothing is left.
const stack = new SystemStack();

beforeAll(() => stack.start(), 240_000);

afterAll(async () => {
  await stack.teardown();
  expect(await stack.leftovers()).toEqual([]);
}, 120_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ARGON2ID = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function register(
  account: { email: string; password: string; name: string },
  headers?: Record<string, string>,
) {
  return callApi<Session>(stack.gatewayUrl('/api/v1/auth/register'), { body: account, headers });
}

async function registered(
  label: string,
): Promise<{ account: ReturnType<typeof newAccount>; user: PublicUser }> {
  const account = newAccount(label);
  const response = await register(account);
  expect(response.status).toBe(201);
  const { user } = dataOf(response);
  // Arranged means settled: no event of this test is still in flight when the next one measures.
  await platformEventsOf(stack, user.id);
  return { account, user };
}

interface Metric {
  name: string;
  labels: Record<string, string>;
}

async function metricValue(service: ServiceName, metric: Metric): Promise<number> {
  return sampleValue(await stack.metrics(service), metric.name, metric.labels);
}

/** How much `metric` grew from `from`, once it has grown (it is observed a little after the fact). */
async function metricIncrease(service: ServiceName, metric: Metric, from: number): Promise<number> {
  const now = await waitFor(
    async () => {
      const value = await metricValue(service, metric);
      return value > from && value;
    },
    { description: `${metric.name} of ${service} to grow` },
  );
  return now - from;
}

describe('Registration through the gateway', () => {
  it('When a client registers, then it gets 201 with the user and a token, user-service stores an argon2id hash and the normalised email, and integration-service records user.registered exactly once', async () => {
    const account = newAccount('register');
    const typedEmail = `  ${account.email.toUpperCase()} `;

    const response = await register({ ...account, email: typedEmail });

    // The response
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const requestId = requestIdOf(response);
    expect(requestId).toMatch(UUID);
    expect(response.body).toEqual({
      success: true,
      data: {
        user: {
          id: expect.stringMatching(UUID),
          email: account.email,
          name: account.name,
          roles: ['user'],
          locale: 'en',
          preferences: {},
          created_at: expect.stringMatching(ISO_TIME),
        },
        access_token: expect.stringMatching(JWT),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^rt_[A-Za-z0-9_-]{43}$/),
        refresh_token_expires_in: 14 * 24 * 3600,
        session_id: expect.stringMatching(UUID),
      },
      error: null,
      metadata: { timestamp: expect.stringMatching(ISO_TIME), request_id: requestId },
    });
    const user = dataOf(response).user;

    // The new state in user-service's database
    const users = await stack.query<{
      id: string;
      email: string;
      name: string;
      password_hash: string;
      roles: string[];
    }>('user-service', 'SELECT id::text, email, name, password_hash, roles FROM users WHERE id = $1', [
      user.id,
    ]);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ email: account.email, name: account.name, roles: ['user'] });
    const [, memoryKib, timeCost, parallelism] = ARGON2ID.exec(users[0].password_hash) ?? [];
    expect(users[0].password_hash).toMatch(ARGON2ID);
    expect(Number(memoryKib)).toBeGreaterThanOrEqual(19_456);
    expect(Number(timeCost)).toBeGreaterThanOrEqual(2);
    expect(Number(parallelism)).toBeGreaterThanOrEqual(1);
    expect(users[0].password_hash).not.toContain(account.password);

    // The outbox row, published by the relay
    const outbox = await publishedOutboxRows(stack, user.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ type: 'user.registered', attempts: 0, last_error: null });
    expect(outbox[0].envelope).toMatchObject({
      specversion: '1.0',
      source: 'user-service',
      request_id: requestId,
    });

    // The message, as integration-service recorded it
    const events = await platformEventsOf(stack, user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: outbox[0].id,
      type: 'user.registered',
      source: 'user-service',
      subject: user.id,
      request_id: requestId,
      traceparent: expect.stringMatching(TRACEPARENT),
      data: {
        user_id: user.id,
        email: account.email,
        name: account.name,
        roles: ['user'],
        registered_at: user.created_at,
      },
    });
    expect(events[0].occurred_at.toISOString()).toBe(outbox[0].envelope['time']);
    const processed = await stack.query<{ consumer: string }>(
      'integration-service',
      'SELECT consumer FROM processed_events WHERE event_id = $1::uuid',
      [events[0].id],
    );
    expect(processed).toEqual([{ consumer: 'integration-service.platform-events' }]);

    // What was logged: one access-log line, and no secret in any process's output
    expect(await gatewayAccessLog(stack, requestId)).toMatchObject({
      level: 'info',
      service: 'api-gateway',
      method: 'POST',
      route: '/api/v1/auth/register',
      status: 201,
    });
    const output = stack.allOutput();
    expect(output).not.toContain(account.password);
    expect(output).not.toContain(dataOf(response).access_token);
    expect(output).not.toContain(users[0].password_hash);
  });

  it('When the same email registers again in another case, then 409 CONFLICT and still one user and one event', async () => {
    const { account, user } = await registered('duplicate');

    const again = await register({
      ...account,
      email: account.email.toUpperCase(),
      password: `${account.password}!`,
    });

    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      success: false,
      data: null,
      error: { code: 'CONFLICT', fields: [{ field: 'email', message: expect.any(String) }] },
      metadata: { request_id: again.headers.get('x-request-id') },
    });
    const users = await stack.query('user-service', 'SELECT 1 FROM users WHERE email = $1', [account.email]);
    expect(users).toHaveLength(1);
    const outbox = await stack.query(
      'user-service',
      `SELECT 1 FROM outbox_events WHERE envelope->'data'->>'email' = $1`,
      [account.email],
    );
    expect(outbox).toHaveLength(1);
    expect(await platformEventsOf(stack, user.id)).toHaveLength(1);
  });
});

describe('Login and the current user', () => {
  it('When a registered user logs in, then 200 with a token, and GET /api/v1/users/me with it answers the same user', async () => {
    const { account, user } = await registered('login');

    const login = await callApi<Session>(stack.gatewayUrl('/api/v1/auth/login'), {
      body: { email: ` ${account.email.toUpperCase()}`, password: account.password },
    });

    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      success: true,
      error: null,
      data: { user, access_token: expect.stringMatching(JWT), token_type: 'Bearer', expires_in: 900 },
      metadata: { request_id: login.headers.get('x-request-id') },
    });

    const me = await callApi<{ user: PublicUser }>(stack.gatewayUrl('/api/v1/users/me'), {
      token: dataOf(login).access_token,
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ success: true, error: null, data: { user } });
    expect(await gatewayAccessLog(stack, requestIdOf(me))).toMatchObject({
      route: '/api/v1/users/me',
      status: 200,
      user_id: user.id,
    });
  });

  it('When GET /api/v1/users/me comes without a token or with a forged one, then 401 UNAUTHENTICATED in the envelope', async () => {
    const { account } = await registered('no-token');
    const login = await callApi<Session>(stack.gatewayUrl('/api/v1/auth/login'), {
      body: { email: account.email, password: account.password },
    });
    const [header, payload] = dataOf(login).access_token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;

    for (const token of [undefined, forged, 'not-a-jwt']) {
      const response = await callApi(stack.gatewayUrl('/api/v1/users/me'), { token });

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body).toEqual({
        success: false,
        data: null,
        error: { code: 'UNAUTHENTICATED', message: expect.any(String) },
        metadata: {
          timestamp: expect.stringMatching(ISO_TIME),
          request_id: response.headers.get('x-request-id'),
        },
      });
    }
  });

  it('When the password is wrong or the account does not exist, then 401 with one and the same error', async () => {
    const { account } = await registered('wrong-password');

    const wrong = await callApi(stack.gatewayUrl('/api/v1/auth/login'), {
      body: { email: account.email, password: `${account.password}x` },
    });
    const unknown = await callApi(stack.gatewayUrl('/api/v1/auth/login'), {
      body: { email: newAccount('nobody').email, password: account.password },
    });

    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toEqual({ code: 'UNAUTHENTICATED', message: expect.any(String) });
    expect(unknown.body.error).toEqual(wrong.body.error);
  });
});

describe('Operations endpoints of every process', () => {
  it.each(BACKENDS.map((backend) => backend.name))(
    'When %s runs, then /readyz is 200 with postgres, redis and rabbitmq ok (user-service: its signing keys; ai-gateway-service: its model registry), and grpc.health.v1 Check answers SERVING',
    async (name) => {
      const response = await fetch(stack.opsUrl(name, '/readyz'));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        ready: true,
        checks: {
          postgres: expect.objectContaining({ ok: true }),
          redis: expect.objectContaining({ ok: true }),
          rabbitmq: expect.objectContaining({ ok: true }),
          ...(name === 'user-service' && { 'signing-keys': expect.objectContaining({ ok: true }) }),
          ...(name === 'ai-gateway-service' && { 'model-registry': expect.objectContaining({ ok: true }) }),
        },
      });

      const check = grpcHealthCheck(`127.0.0.1:${stack.service(name).grpcPort}`, { timeoutMs: 5_000 });
      try {
        await expect(check()).resolves.toBeUndefined();
      } finally {
        check.close();
      }
    },
  );

  it('When the gateway runs, then its ops /readyz is 200 with user-service, context-service, ai-gateway-service, integration-service, signing-keys, redis and rabbitmq (not critical) ok, and the public /readyz gives no details', async () => {
    const ops = await fetch(stack.opsUrl('api-gateway', '/readyz'));
    expect(ops.status).toBe(200);
    expect(await ops.json()).toEqual({
      ready: true,
      checks: {
        'user-service': expect.objectContaining({ ok: true }),
        'context-service': expect.objectContaining({ ok: true, critical: false }),
        'ai-gateway-service': expect.objectContaining({ ok: true, critical: false }),
        'integration-service': expect.objectContaining({ ok: true, critical: false }),
        'signing-keys': expect.objectContaining({ ok: true }),
        redis: expect.objectContaining({ ok: true }),
        rabbitmq: expect.objectContaining({ ok: true, critical: false }),
      },
    });

    const publicProbe = await fetch(stack.gatewayUrl('/readyz'));
    expect(publicProbe.status).toBe(200);
    expect(await publicProbe.json()).toEqual({ ready: true });
  });

  it("When user-service's own gRPC service is asked for by name, then grpc.health.v1 Check answers SERVING", async () => {
    const check = grpcHealthCheck(`127.0.0.1:${stack.service('user-service').grpcPort}`, {
      service: 'te.user.v1.UserService',
      timeoutMs: 5_000,
    });
    try {
      await expect(check()).resolves.toBeUndefined();
    } finally {
      check.close();
    }
  });

  it.each(['api-gateway', ...BACKENDS.map((backend) => backend.name)] as ServiceName[])(
    'When %s runs, then /metrics serves Prometheus text with the process metrics',
    async (name) => {
      const response = await fetch(stack.opsUrl(name, '/metrics'));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = await stack.metrics(name);
      for (const metric of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        expect(hasMetric(samples, metric)).toBe(true);
      }
    },
  );

  it('When a user registers, then the gateway, user-service and integration-service each measure it', async () => {
    const gatewayRegister = {
      name: 'http_server_request_duration_seconds_count',
      labels: { method: 'POST', route: '/api/v1/auth/register', status_code: '201' },
    };
    const clientRegister = {
      name: 'grpc_client_handling_seconds_count',
      labels: { service: 'te.user.v1.UserService', method: 'Register', code: 'OK' },
    };
    const grpcRegister = {
      name: 'grpc_server_handling_seconds_count',
      labels: { service: 'te.user.v1.UserService', method: 'Register', code: 'OK' },
    };
    const consumed = {
      name: 'amqp_message_processing_seconds_count',
      labels: { queue: 'integration-service.platform-events', type: 'user.registered', outcome: 'acked' },
    };
    const published = {
      name: 'amqp_messages_published_total',
      labels: { type: 'user.registered', outcome: 'confirmed' },
    };
    const before = {
      gateway: await metricValue('api-gateway', gatewayRegister),
      client: await metricValue('api-gateway', clientRegister),
      grpc: await metricValue('user-service', grpcRegister),
      published: await metricValue('user-service', published),
      consumed: await metricValue('integration-service', consumed),
    };

    await registered('metrics');

    // Each is observed a little after what the client or the database sees (the gateway on 'finish',
    // the publisher on the broker's confirm, the consumer after its ack): wait for the change, then
    // check it is exactly this one registration.
    expect(await metricIncrease('api-gateway', gatewayRegister, before.gateway)).toBe(1);
    expect(await metricIncrease('api-gateway', clientRegister, before.client)).toBe(1);
    expect(await metricIncrease('user-service', grpcRegister, before.grpc)).toBe(1);
    expect(await metricIncrease('user-service', published, before.published)).toBe(1);
    expect(await metricIncrease('integration-service', consumed, before.consumed)).toBe(1);
  });
});

describe('Request and trace correlation', () => {
  it("When a client registers, then the gateway's access log, user-service's log and integration-service's stored row share the request id and the trace id", async () => {
    const account = newAccount('correlation');

    const response = await register(account);

    expect(response.status).toBe(201);
    const requestId = requestIdOf(response);
    const user = dataOf(response).user;
    const access = await gatewayAccessLog(stack, requestId);
    expect(access).toMatchObject({
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    const traceId = access['trace_id'];

    const [event] = await platformEventsOf(stack, user.id);
    expect(event.request_id).toBe(requestId);
    expect(traceIdOf(event.traceparent)).toBe(traceId);

    // user-service's line for the call it handled for the gateway.
    const handled = await logLine(stack, 'user-service', {
      message: 'gRPC call handled',
      grpc_method: 'Register',
      request_id: requestId,
    });
    expect(handled['trace_id']).toBe(traceId);
  });

  it("When a client sends its own X-Request-Id and traceparent, then the gateway keeps both and integration-service's row carries them", async () => {
    const account = newAccount('client-trace');
    const { traceparent, traceId } = newTraceparent();
    const requestId = `e2e-client-${traceId.slice(0, 12)}`;

    const response = await register(account, { 'x-request-id': requestId, traceparent });

    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(response.body.metadata.request_id).toBe(requestId);
    expect(await gatewayAccessLog(stack, requestId)).toMatchObject({ trace_id: traceId });
    const [event] = await platformEventsOf(stack, dataOf(response).user.id);
    expect(event.request_id).toBe(requestId);
    expect(traceIdOf(event.traceparent)).toBe(traceId);
  });
});

// Last in the file on purpose: these stop the stack (Jest runs a file's tests in order).
describe('Graceful shutdown', () => {
  // The gateway first (it calls user-service), user-service last.
  const stopOrder: ServiceName[] = [
    'api-gateway',
    'integration-service',
    'ai-gateway-service',
    'context-service',
    'user-service',
  ];

  it.each(stopOrder)(
    `When %s is sent SIGTERM, then it exits with code 0 within the grace period (${SHUTDOWN_GRACE_MS} ms) and logs "stopped"`,
    async (name) => {
      const service = stack.service(name);
      const started = Date.now();

      const code = await service.process.stop('SIGTERM', SHUTDOWN_GRACE_MS + 5_000);

      const elapsed = Date.now() - started;
      expect(code).toBe(0);
      expect(elapsed).toBeLessThan(SHUTDOWN_GRACE_MS);
      const lines = service.process.logLines();
      const begin = lines.findIndex(
        (line) => line['message'] === 'shutting down' && line['reason'] === 'SIGTERM',
      );
      expect(begin).toBeGreaterThanOrEqual(0);
      const shutdownLines = lines.slice(begin);
      expect(shutdownLines.filter((line) => line['level'] === 'error')).toEqual([]);
      expect(shutdownLines.at(-1)).toMatchObject({ level: 'info', message: 'stopped', service: name });
      await expect(fetch(stack.opsUrl(name, '/healthz'))).rejects.toThrow();
    },
    SHUTDOWN_GRACE_MS + 10_000,
  );
});
