import { waitFor } from '@te/testing';
import { cleanUp } from '../src/clean-up.js';
import { FaultService } from '../src/fault-service.js';
import { call, gatewayEnv, signUp, type Answer, type SignedUp } from '../src/gateway-client.js';
import { sleep } from '../src/platform-events.js';

/** The gateway's GRPC_DEADLINE_MS here. */
const DEADLINE_MS = 1_000;
/** A deadline answer comes no later than this after the deadline (a loaded 2-core machine). */
const MARGIN_MS = 1_500;
/** An open circuit answers at once: no upstream call at all. */
const FAIL_FAST_MS = 500;
const THRESHOLD = 3;
const OPEN_MS = 3_000;

/**
 * user-service is frozen with SIGSTOP: its sockets stay open, so calls are accepted by the kernel and
 * never answered (a hung or overloaded upstream, the worst kind). The gateway's deadline turns each
 * call into 504, its circuit breaker (decision 0023-gateway-edge) then fails fast with 503 until a
 * probe after the cool-down succeeds. Access tokens verify locally (cached signing keys), so the
 * profile read is the only call that needs the frozen service.
 */
describe('Scenario 7: a hung upstream service', () => {
  let users: FaultService;
  let gateway: FaultService;
  let carol: SignedUp;

  beforeAll(async () => {
    users = await FaultService.create('user-service');
    await users.start();
    gateway = await FaultService.create('api-gateway', {
      ...gatewayEnv({ users: users.address }),
      GRPC_DEADLINE_MS: String(DEADLINE_MS),
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
      CIRCUIT_BREAKER_OPEN_MS: String(OPEN_MS),
    });
    await gateway.start();
    carol = await signUp(gateway, 'hung-carol');
  }, 240_000);

  afterAll(async () => {
    await cleanUp('07-upstream-hung', { services: [gateway, users] });
  }, 120_000);

  const me = () => call(gateway, 'GET', '/api/v1/users/me', { headers: carol.auth });
  const outcome = (answer: Answer) => [answer.status, answer.body.error?.code];

  it('When user-service hangs, then calls answer 504 within the deadline, the breaker opens and fails fast with 503, and calls succeed again after it resumes', async () => {
    expect((await me()).status).toBe(200);

    users.pause();
    // Closed circuit: each call waits for its deadline, then 504 in the envelope.
    const timedOut: Answer[] = [];
    for (let i = 0; i < THRESHOLD; i++) timedOut.push(await me());
    for (const answer of timedOut) {
      expect(outcome(answer)).toEqual([504, 'DEADLINE_EXCEEDED']);
      expect(answer.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(answer.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    }

    // Open circuit: 503 at once, with Retry-After, without waiting for the frozen service.
    const failedFast: Answer[] = [];
    for (let i = 0; i < 5; i++) failedFast.push(await me());
    for (const answer of failedFast) {
      expect(outcome(answer)).toEqual([503, 'UNAVAILABLE']);
      expect(answer.ms).toBeLessThan(FAIL_FAST_MS);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(Math.ceil(OPEN_MS / 1000));
    }
    expect(gateway.lines('circuit opened: failing fast')).toEqual([
      expect.objectContaining({ upstream: 'user-service', open_ms: OPEN_MS }),
    ]);

    // Still hung after the cool-down: the one probe times out and the circuit opens again.
    await sleep(OPEN_MS + 200);
    const probe = await me();
    expect(outcome(probe)).toEqual([504, 'DEADLINE_EXCEEDED']);
    const reopened = await me();
    expect(outcome(reopened)).toEqual([503, 'UNAVAILABLE']);
    expect(reopened.ms).toBeLessThan(FAIL_FAST_MS);
    expect(gateway.lines('circuit opened: failing fast')).toHaveLength(2);

    // Resumed: after the cool-down a probe succeeds and the circuit closes; no restart anywhere.
    users.resume();
    const resumedAt = Date.now();
    const back = await waitFor(
      async () => {
        const answer = await me();
        return answer.status === 200 && answer;
      },
      { timeoutMs: OPEN_MS + 20_000, intervalMs: 200, description: 'the profile read to succeed again' },
    );
    const recoveredInMs = Date.now() - resumedAt;
    expect(back.body.data).toMatchObject({ user: { id: carol.userId } });
    expect(gateway.lines('circuit closed')).toEqual([expect.objectContaining({ upstream: 'user-service' })]);
    for (let i = 0; i < 5; i++) expect((await me()).status).toBe(200);
    for (const service of [users, gateway]) expect(service.processes).toHaveLength(1);
    process.stdout.write(
      `[fault-tests] hung upstream: 504 after ${timedOut.map((a) => a.ms.toFixed(0)).join('/')} ms, ` +
        `503 in ≤ ${Math.max(...failedFast.map((a) => a.ms)).toFixed(0)} ms, recovered ${recoveredInMs} ms after SIGCONT\n`,
    );
  });
});
