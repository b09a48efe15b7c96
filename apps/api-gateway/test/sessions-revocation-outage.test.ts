import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from '@te/testing';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// The revocation list fails closed: when the gateway's Redis cannot answer, a perfectly valid access
// token is refused with 503 rather than accepted unchecked. The gateway here uses a Redis server of its
// own, started by this test on a free port; only that server is killed.
let userService: UserServiceProcess | undefined;
let gateway: RunningGateway | undefined;
let redisPort: number;
let redisServer: ChildProcess | undefined;

async function startRedis(): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(
    async () => {
      const probe = new Redis({
        port: redisPort,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs: 10_000, intervalMs: 100, description: 'the test Redis to accept connections' },
  );
  return child;
}

async function stopRedis(): Promise<void> {
  const child = redisServer;
  redisServer = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  redisPort = await freePort();
  redisServer = await startRedis();
  userService = await UserServiceProcess.create();
  await userService.start();
  gateway = await startGateway(userService.address, { REDIS_URL: `redis://127.0.0.1:${redisPort}` });
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await stopRedis();
  await userService?.dispose();
}, 60_000);

test('When the gateway’s Redis is down, then valid access tokens get 503 (fail closed) until it is back', async () => {
  const { body } = await register(gateway!.baseUrl, newCredentials('failclosed'));
  const token = body.data!.access_token;
  const me = () =>
    call(gateway!.baseUrl, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });
  expect((await me()).status).toBe(200);

  await stopRedis();

  const down = await me();
  expect(down.status).toBe(503);
  expect(down.body).toMatchObject({ success: false, data: null, error: { code: 'UNAVAILABLE' } });
  const logout = await call(gateway!.baseUrl, 'POST', '/api/v1/auth/logout', {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(logout.status).toBe(503);
  // Sign-in fails closed too: its edge rate limit (auth class, per IP) cannot be checked without
  // Redis (decision 0023-gateway-edge; test/rate-limits.test.ts covers the fail-open classes).
  const signUp = await register(gateway!.baseUrl, newCredentials('stillworks'));
  expect([signUp.status, signUp.body.error?.code]).toEqual([503, 'UNAVAILABLE']);

  redisServer = await startRedis();
  await waitFor(async () => (await me()).status === 200, {
    timeoutMs: 30_000,
    intervalMs: 250,
    description: 'the gateway to reach Redis again',
  });
}, 120_000);
