import { randomUUID } from 'node:crypto';
import { waitFor } from '@te/testing';
import { cleanUp } from '../src/clean-up.js';
import { FaultService } from '../src/fault-service.js';
import { call, gatewayEnv, signUp, type Answer, type SignedUp } from '../src/gateway-client.js';
import { OwnRedis } from '../src/own-redis.js';
import { sleep } from '../src/platform-events.js';

/** The auth class's burst here: RateLimit-Limit on a checked auth answer (the refill keeps it unreached). */
const AUTH_BURST = '50';
/** Every answer, also one in flight when Redis dies, comes within this (the checks give up after 100 ms). */
const BOUND_MS = 3_000;
const OUTAGE_MS = 3_000;

interface Sample {
  route: string;
  sentAt: number;
  answer: Answer;
}

/**
 * The gateway's Redis (a server of the test's own; user-service keeps the machine's) is killed under a
 * steady client load and restarted. Decision 0023-gateway-edge declares the policy: the `auth` class
 * fails closed (503), every other class fails open; an access token's revocation check needs Redis
 * and fails closed too, an API key's does not.
 */
describe('Scenario 6: Redis stopped under the gateway', () => {
  let redis: OwnRedis;
  let users: FaultService;
  let gateway: FaultService;
  let bob: SignedUp;
  let apiKey: Record<string, string>;

  beforeAll(async () => {
    redis = await OwnRedis.create();
    await redis.start();
    users = await FaultService.create('user-service');
    await users.start();
    gateway = await FaultService.create('api-gateway', {
      ...gatewayEnv({ users: users.address }),
      REDIS_URL: redis.url,
      RATE_LIMIT_AUTH_PER_MINUTE: '6000',
      RATE_LIMIT_AUTH_BURST: AUTH_BURST,
    });
    await gateway.start();
    bob = await signUp(gateway, 'redis-bob');
    const created = await call<{ secret: string }>(gateway, 'POST', '/api/v1/api-keys', {
      headers: bob.auth,
      json: { name: 'redis outage', scopes: ['profile:read'] },
    });
    apiKey = { 'x-api-key': created.body.data!.secret };
  }, 240_000);

  afterAll(async () => {
    await cleanUp('06-redis-stopped', { services: [gateway, users], redis });
  }, 120_000);

  it('When Redis is killed under load, then auth routes answer 503 and the rest keep working, nothing hangs, and limits apply again once it is back', async () => {
    const login = () =>
      call(gateway, 'POST', '/api/v1/auth/login', { json: { email: bob.email, password: bob.password } });
    const meByKey = () => call(gateway, 'GET', '/api/v1/users/me', { headers: apiKey });
    const meBySession = () => call(gateway, 'GET', '/api/v1/users/me', { headers: bob.auth });
    const register = () =>
      call(gateway, 'POST', '/api/v1/auth/register', {
        json: {
          email: `redis-${randomUUID().slice(0, 8)}@example.test`,
          password: 'redis outage 42!',
          name: 'R',
        },
      });
    const before = await login();
    expect([before.status, before.headers.get('ratelimit-limit')]).toEqual([200, AUTH_BURST]);

    // Three clients, each calling in a loop, until told to stop.
    const samples: Sample[] = [];
    let running = true;
    const client = async (route: string, send: () => Promise<Answer>) => {
      while (running) {
        const sentAt = Date.now();
        samples.push({ route, sentAt, answer: await send() });
        await sleep(50);
      }
    };
    const load = Promise.all([
      client('login', login),
      client('me by API key', meByKey),
      client('me by session', meBySession),
    ]);
    await sleep(1_000);
    const killAt = Date.now();
    await redis.kill();
    const down = Date.now();
    await sleep(OUTAGE_MS);
    const registered = await register();
    const gatewayReadyz = await fetch(`http://127.0.0.1:${gateway.httpPort}/readyz`);
    const restartAt = Date.now();
    await redis.start();
    // Limits apply again: a checked auth answer carries the RateLimit headers.
    await waitFor(
      async () => {
        const answer = await login();
        return answer.status === 200 && answer.headers.get('ratelimit-limit') === AUTH_BURST;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'auth routes to be rate limited again' },
    );
    await sleep(500);
    running = false;
    await load;

    // Nothing hung: every answer of the whole run (before, across the kill, during, after) came in time.
    const slow = samples.filter((s) => s.answer.ms >= BOUND_MS || s.answer.status === 0);
    expect(slow.map((s) => `${s.route} ${s.answer.status} ${s.answer.ms.toFixed(0)} ms`)).toEqual([]);

    // While Redis was down (sent after the kill completed, before the restart began): the policy.
    const during = samples.filter((s) => s.sentAt >= down && s.sentAt + s.answer.ms < restartAt);
    const outcomes = (route: string) => [
      ...new Set(
        during
          .filter((s) => s.route === route)
          .map((s) => `${s.answer.status} ${s.answer.body.error?.code ?? ''}`.trim()),
      ),
    ];
    expect(outcomes('login')).toEqual(['503 UNAVAILABLE']);
    expect(outcomes('me by session')).toEqual(['503 UNAVAILABLE']);
    expect(outcomes('me by API key')).toEqual(['200']);
    expect([registered.status, registered.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
    // Fail open means unchecked: no RateLimit headers while Redis is away.
    for (const sample of during.filter((s) => s.route === 'me by API key'))
      expect(sample.answer.headers.get('ratelimit-limit')).toBeNull();
    expect(during.filter((s) => s.route === 'me by API key').length).toBeGreaterThanOrEqual(10);
    // Redis is one of the gateway's readiness dependencies.
    expect(gatewayReadyz.status).toBe(503);

    // Limits are back for every class: the API key's answers carry the default class's headers again.
    const after = await meByKey();
    expect([after.status, after.headers.get('ratelimit-limit')]).toEqual([200, '10000']);
    expect(gateway.lines('rate limit not checked: redis unavailable').length).toBeGreaterThan(0);
    expect(gateway.processes).toHaveLength(1);
    process.stdout.write(
      `[fault-tests] redis stopped: ${samples.length} calls, ${during.length} during the ${restartAt - killAt} ms outage, ` +
        `slowest ${Math.max(...samples.map((s) => s.answer.ms)).toFixed(0)} ms\n`,
    );
  });
});
