import { randomUUID } from 'node:crypto';
import { testRedisPrefix, waitFor } from '@te/testing';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { OwnRedisServer } from './support/redis-server.js';
import { UserServiceProcess } from './support/user-service.process.js';

// The edge rate limits (decision 0023-gateway-edge) against the real Redis and a real user-service.
// Users sign up through `setup` (generous limits); each gateway under test has its own small limits
// and its own Redis prefix, so its buckets start full. All traffic comes from 127.0.0.1. Refill rates
// are 1 per minute, so no bucket refills during a test on a slow machine.
let userService: UserServiceProcess | undefined;
let setup: RunningGateway;
const gateways: RunningGateway[] = [];
let ownRedis: OwnRedisServer | undefined;

const SLOW = '1'; // per minute

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  await userService.start();
  setup = await startGateway(userService.address);
}, 180_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await setup?.stop();
  await ownRedis?.kill();
  await userService?.dispose();
}, 60_000);

async function gatewayWith(overrides: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway(userService!.address, {
    REDIS_KEY_PREFIX: `${testRedisPrefix().prefix}rl-${randomUUID().slice(0, 8)}:`,
    ...overrides,
  });
  gateways.push(gateway);
  return gateway;
}

async function signUp(label: string): Promise<Session> {
  const { status, body } = await register(setup.baseUrl, newCredentials(label));
  expect(status).toBe(201);
  return body.data!;
}

const bearer = (session: Session) => ({ authorization: `Bearer ${session.access_token}` });

function rateHeaders(headers: Headers) {
  return {
    limit: headers.get('ratelimit-limit'),
    remaining: headers.get('ratelimit-remaining'),
    reset: Number(headers.get('ratelimit-reset')),
    policy: headers.get('ratelimit-policy'),
    retryAfter: headers.get('retry-after'),
  };
}

async function metricLine(gateway: RunningGateway, pattern: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`${gateway.opsUrl}/metrics`)).text();
  return text.split('\n').find((line) => pattern.test(line));
}

test('When one IP exceeds the auth burst, then 429 RATE_LIMITED with Retry-After and RateLimit headers; other routes from that IP still answer', async () => {
  const gateway = await gatewayWith({ RATE_LIMIT_AUTH_PER_MINUTE: SLOW, RATE_LIMIT_AUTH_BURST: '3' });
  const login = () => call(gateway.baseUrl, 'POST', '/api/v1/auth/login', { json: {} });

  const allowed = [await login(), await login(), await login()];
  const refused = await login();

  expect(allowed.map((r) => r.status)).toEqual([400, 400, 400]); // validation ran: they got through
  expect(allowed.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ success: false, data: null, error: { code: 'RATE_LIMITED' } });
  expect(refused.body.metadata.request_id).toBe(refused.headers.get('x-request-id'));
  const headers = rateHeaders(refused.headers);
  expect(headers).toMatchObject({ limit: '3', remaining: '0', policy: '3;w=180' });
  expect(Number(headers.retryAfter)).toBeGreaterThanOrEqual(50); // one request per 60 s
  expect(Number(headers.retryAfter)).toBeLessThanOrEqual(60);
  expect(headers.reset).toBeGreaterThan(60);
  // Every auth route shares the IP's bucket; OIDC too.
  expect((await call(gateway.baseUrl, 'POST', '/api/v1/auth/register', { json: {} })).status).toBe(429);
  expect((await call(gateway.baseUrl, 'GET', '/api/v1/auth/oidc/providers')).status).toBe(429);
  // The rest of the API is another bucket.
  const me = await call(gateway.baseUrl, 'GET', '/api/v1/users/me');
  expect(me.status).toBe(401);
  expect(
    await metricLine(gateway, /^http_rate_limited_requests_total\{class="auth",scope="ip"\} 3$/),
  ).toBeDefined();
});

test('When one user exceeds the default burst, then only that user gets 429; another user from the same IP, and the same user’s API key, have their own buckets', async () => {
  const gateway = await gatewayWith({ RATE_LIMIT_DEFAULT_PER_MINUTE: SLOW, RATE_LIMIT_DEFAULT_BURST: '3' });
  const [alice, bob] = [await signUp('rl-alice'), await signUp('rl-bob')];
  const created = await call<{ secret: string }>(setup.baseUrl, 'POST', '/api/v1/api-keys', {
    headers: bearer(alice),
    json: { name: 'rl', scopes: ['profile:read'] },
  });
  expect(created.status).toBe(201);
  const aliceKey = { 'x-api-key': created.body.data!.secret };
  const me = (headers: Record<string, string>) =>
    call(gateway.baseUrl, 'GET', '/api/v1/users/me', { headers });

  const aliceAnswers = [await me(bearer(alice)), await me(bearer(alice)), await me(bearer(alice))];
  const aliceRefused = await me(bearer(alice));

  expect(aliceAnswers.map((r) => r.status)).toEqual([200, 200, 200]);
  // Normal answers carry the headers of the check closest to its limit (here the user's bucket).
  expect(aliceAnswers.map((r) => rateHeaders(r.headers))).toEqual([
    expect.objectContaining({ limit: '3', remaining: '2', policy: '3;w=180' }),
    expect.objectContaining({ limit: '3', remaining: '1' }),
    expect.objectContaining({ limit: '3', remaining: '0', retryAfter: null }),
  ]);
  expect(aliceRefused.status).toBe(429);
  expect(aliceRefused.body.error?.code).toBe('RATE_LIMITED');
  expect(Number(aliceRefused.headers.get('retry-after'))).toBeGreaterThan(0);

  const bobAnswer = await me(bearer(bob));
  expect(bobAnswer.status).toBe(200);
  expect(bobAnswer.headers.get('ratelimit-remaining')).toBe('2');

  // The API key is its own principal: full bucket, then limited on its own.
  const keyAnswers = [await me(aliceKey), await me(aliceKey), await me(aliceKey), await me(aliceKey)];
  expect(keyAnswers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
  expect(
    await metricLine(gateway, /^http_rate_limited_requests_total\{class="default",scope="principal"\} 2$/),
  ).toBeDefined();
});

test('When /v1 is limited, then the 429 is in OpenAI’s error shape, per principal and per IP', async () => {
  const gateway = await gatewayWith({
    RATE_LIMIT_INFERENCE_PER_MINUTE: SLOW,
    RATE_LIMIT_INFERENCE_BURST: '2',
  });
  const carol = await signUp('rl-carol');
  const complete = () =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(carol), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'explainer' }), // no messages: 400, without calling a model
      signal: AbortSignal.timeout(20_000),
    });

  const answers = [await complete(), await complete(), await complete()];

  expect(answers.map((r) => r.status)).toEqual([400, 400, 429]);
  expect(answers[2]!.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await answers[2]!.json()).toEqual({
    error: {
      message: expect.any(String),
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limit_exceeded',
    },
  });

  // The per-IP flood guard runs before authentication, in the shape of the API asked for.
  const ipLimited = await gatewayWith({ RATE_LIMIT_IP_PER_MINUTE: SLOW, RATE_LIMIT_IP_BURST: '2' });
  const models = () => fetch(`${ipLimited.baseUrl}/v1/models`, { signal: AbortSignal.timeout(20_000) });
  expect([(await models()).status, (await models()).status]).toEqual([401, 401]);
  const refused = await models();
  expect(refused.status).toBe(429);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
  const envelope = await call(ipLimited.baseUrl, 'GET', '/api/v1/users/me');
  expect([envelope.status, envelope.body.error?.code]).toEqual([429, 'RATE_LIMITED']);
  expect(envelope.headers.get('retry-after')).toMatch(/^\d+$/);
  // Probes and the JWKS are not limited.
  expect((await fetch(`${ipLimited.baseUrl}/healthz`)).status).toBe(200);
  expect((await fetch(`${ipLimited.baseUrl}/.well-known/jwks.json`)).status).toBe(200);
});

test('When the gateway’s Redis is down, then auth routes fail closed (503) and others fail open, quickly; limits return with Redis', async () => {
  ownRedis = await OwnRedisServer.start();
  const gateway = await gatewayWith({
    REDIS_URL: ownRedis.url,
    RATE_LIMIT_AUTH_PER_MINUTE: SLOW,
    RATE_LIMIT_AUTH_BURST: '50',
  });
  const dave = await signUp('rl-dave');
  const created = await call<{ secret: string }>(setup.baseUrl, 'POST', '/api/v1/api-keys', {
    headers: bearer(dave),
    json: { name: 'outage', scopes: ['profile:read'] },
  });
  // An API key: its check needs no Redis (an access token's revocation check fails closed on its own).
  const daveKey = { 'x-api-key': created.body.data!.secret };
  const login = () => call(gateway.baseUrl, 'POST', '/api/v1/auth/login', { json: {} });
  expect((await login()).status).toBe(400);

  await ownRedis.kill();

  const started = performance.now();
  const loginDown = await login();
  const meDown = await call(gateway.baseUrl, 'GET', '/api/v1/users/me', { headers: daveKey });
  const elapsed = performance.now() - started;

  expect(loginDown.status).toBe(503);
  expect(loginDown.body).toMatchObject({ success: false, error: { code: 'UNAVAILABLE' } });
  expect(meDown.status).toBe(200);
  expect(meDown.headers.get('ratelimit-limit')).toBeNull(); // nothing was checked
  expect(elapsed).toBeLessThan(5_000); // generous: the check gives up after 100 ms
  expect(
    await metricLine(gateway, /^http_rate_limit_unchecked_total\{class="auth",outcome="fail_closed"\} \d/),
  ).toBeDefined();
  expect(
    await metricLine(gateway, /^http_rate_limit_unchecked_total\{class="default",outcome="fail_open"\} \d/),
  ).toBeDefined();

  await ownRedis.start();
  await waitFor(async () => (await login()).status === 400, {
    timeoutMs: 30_000,
    intervalMs: 250,
    description: 'the auth routes to be checked again',
  });
  expect((await login()).headers.get('ratelimit-limit')).toBe('50');
}, 120_000);
