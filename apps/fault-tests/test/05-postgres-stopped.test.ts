import { waitFor } from '@te/testing';
import { cleanUp } from '../src/clean-up.js';
import { FaultService } from '../src/fault-service.js';
import { call, gatewayEnv, signUp, type Answer, type SignedUp } from '../src/gateway-client.js';
import { OwnPostgres } from '../src/own-postgres.js';
import { sleep } from '../src/platform-events.js';

/** Every answer during the outage comes within this (pg's connect is refused at once; generous for CI). */
const FAIL_FAST_MS = 3_000;
/** How long the client keeps calling while the database is down. */
const OUTAGE_MS = 4_000;

/**
 * user-service's PostgreSQL (a cluster of the test's own) crashes under a real gateway and comes
 * back. The gateway answers at once, in the envelope, with 503 — the database being away is the
 * service being unavailable, not a server bug — and nobody restarts anything afterwards.
 */
describe('Scenario 5: PostgreSQL stopped under user-service', () => {
  let postgres: OwnPostgres;
  let users: FaultService;
  let gateway: FaultService;
  let alice: SignedUp;
  /** The first test crashed the database (the second restarts it). */
  let outageSeen = false;

  beforeAll(async () => {
    postgres = await OwnPostgres.create();
    await postgres.start();
    users = await FaultService.create('user-service', {}, { databaseAdminUrl: postgres.adminUrl });
    await users.start();
    gateway = await FaultService.create('api-gateway', gatewayEnv({ users: users.address }));
    await gateway.start();
    alice = await signUp(gateway, 'pg-alice');
  }, 240_000);

  afterAll(async () => {
    await cleanUp('05-postgres-stopped', { services: [gateway, users], postgres });
  }, 120_000);

  const me = () => call(gateway, 'GET', '/api/v1/users/me', { headers: alice.auth });
  const login = () =>
    call(gateway, 'POST', '/api/v1/auth/login', { json: { email: alice.email, password: alice.password } });

  it('When PostgreSQL crashes, then calls fail fast with 503 UNAVAILABLE in the envelope and user-service reports not ready', async () => {
    expect((await me()).status).toBe(200);
    expect((await login()).status).toBe(200);

    await postgres.crash();
    outageSeen = true;

    // A client keeps calling: the profile read and the sign-in both need the database.
    const answers: { route: string; answer: Answer }[] = [];
    const until = Date.now() + OUTAGE_MS;
    while (Date.now() < until) {
      answers.push({ route: 'GET /users/me', answer: await me() });
      answers.push({ route: 'POST /auth/login', answer: await login() });
      await sleep(100);
    }
    await waitFor(async () => !(await users.ready()), {
      timeoutMs: 15_000,
      description: 'user-service to report not ready',
    });
    const readyz = await fetch(`http://127.0.0.1:${users.httpPort}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toMatch(/postgres/);

    const summary = answers.map(({ route, answer }) => ({
      route,
      status: answer.status,
      code: answer.body.error?.code,
      success: answer.body.success,
      slow: answer.ms >= FAIL_FAST_MS,
    }));
    const expected = (route: string) => ({
      route,
      status: 503,
      code: 'UNAVAILABLE',
      success: false,
      slow: false,
    });
    expect(summary).toEqual(answers.map(({ route }) => expected(route)));
    // No internals leak into the answer (SQL, hosts, driver messages).
    for (const { answer } of answers) expect(answer.body.error?.message).toBe('Service unavailable');
    const slowest = Math.max(...answers.map(({ answer }) => answer.ms));
    process.stdout.write(
      `[fault-tests] postgres stopped: ${answers.length} calls during the outage, slowest ${slowest.toFixed(0)} ms\n`,
    );
  });

  // Separate from the outage's assertions, so a failure there still shows whether recovery works.
  it('When PostgreSQL is back, then the same processes serve again', async () => {
    expect(outageSeen).toBe(true);
    await postgres.start();
    const recovered = await waitFor(
      async () => {
        const [profile, signIn] = [await me(), await login()];
        return profile.status === 200 && signIn.status === 200 && { profile, signIn };
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'the profile read and sign-in to succeed again' },
    );
    expect(recovered.profile.body.data).toMatchObject({ user: { id: alice.userId, email: alice.email } });
    await waitFor(() => users.ready(), { timeoutMs: 15_000, description: 'user-service ready again' });
    // Nobody restarted anything: one process each, still running.
    for (const service of [users, gateway]) {
      expect(service.processes).toHaveLength(1);
      expect(service.service.process.exitCode).toBeNull();
    }
  });
});
