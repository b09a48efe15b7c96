import type pg from 'pg';
import { callUnary } from '@te/grpc';
import type { ServiceTestEnv } from '@te/testing';
import {
  as,
  createIdentityEnv,
  failure,
  PASSWORD,
  queryPool,
  registerAndLogin,
  startUserService,
  uniqueEmail,
  type RunningUserService,
} from './support/identity.harness.js';

// Brute-force protection (OWASP Authentication Cheat Sheet) with small limits, counters in real Redis.
const PER_ACCOUNT = 3;
const PER_IP = 5;
const WINDOW_SECONDS = 120;

describe('sign-in protection (in-process user-service)', () => {
  let env: ServiceTestEnv;
  let service: RunningUserService;
  let db: pg.Pool;
  let nextAddress = 1;

  beforeAll(async () => {
    env = await createIdentityEnv();
    service = await startUserService(env, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT),
      LOGIN_MAX_FAILURES_PER_IP: String(PER_IP),
      LOGIN_FAILURE_WINDOW_SECONDS: String(WINDOW_SECONDS),
    });
    db = queryPool(env);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await db?.end();
    await env?.cleanup();
  });

  /** Each test signs in from its own address, so per-address counts never leak between tests. */
  const newAddress = () => `203.0.113.${nextAddress++}`;
  const loginFrom = (ip: string, email: string, password: string) =>
    as({ client: { ip, userAgent: 'BruteForce/1.0' } }, () =>
      callUnary(service.users, 'Login', { email, password }),
    );
  const securityEvents = async (userId: string | null, type: string) =>
    (
      await db.query(
        'SELECT user_id, ip, details FROM security_events WHERE user_id IS NOT DISTINCT FROM $1 AND type = $2',
        [userId, type],
      )
    ).rows as { user_id: string | null; ip: string; details: Record<string, unknown> }[];

  it('When an account reaches its failure limit, then even the right password gets RATE_LIMITED with a retry delay, and one lockout is audited', async () => {
    const { email, user } = await registerAndLogin(service);
    const ip = newAddress();

    for (let attempt = 1; attempt <= PER_ACCOUNT; attempt += 1) {
      expect((await failure(loginFrom(ip, email, `wrong-${attempt}`))).code).toBe('UNAUTHENTICATED');
    }
    const locked = await failure(loginFrom(ip, email, PASSWORD));
    const stillLocked = await failure(loginFrom(newAddress(), email, PASSWORD));

    for (const error of [locked, stillLocked]) {
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryAfterSeconds).toBeGreaterThan(WINDOW_SECONDS - 30);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(WINDOW_SECONDS);
    }
    expect(await securityEvents(user.id, 'lockout')).toEqual([
      { user_id: user.id, ip, details: { scope: 'account', retry_after_seconds: expect.any(Number) } },
    ]);
    expect(await securityEvents(user.id, 'sign_in_failed')).toHaveLength(PER_ACCOUNT);
  });

  it('When an address fails against many accounts, then it is locked out for every account, even existing ones with the right password', async () => {
    const ip = newAddress();
    const { email } = await registerAndLogin(service);

    for (let attempt = 1; attempt <= PER_IP; attempt += 1) {
      await failure(loginFrom(ip, uniqueEmail(`spray${attempt}`), PASSWORD));
    }
    const locked = await failure(loginFrom(ip, email, PASSWORD));

    expect(locked.code).toBe('RATE_LIMITED');
    expect(locked.retryAfterSeconds).toBeGreaterThan(0);
    const lockouts = await db.query(
      "SELECT user_id, details FROM security_events WHERE type = 'lockout' AND ip = $1",
      [ip],
    );
    expect(lockouts.rows).toEqual([
      { user_id: null, details: { scope: 'ip', retry_after_seconds: expect.any(Number) } },
    ]);
    // The same account from another address is not affected.
    expect((await loginFrom(newAddress(), email, PASSWORD)).user?.email).toBe(email);
  });

  it('When a sign-in succeeds, then the account’s failure count starts again', async () => {
    const { email } = await registerAndLogin(service);
    const ip = newAddress();

    for (let round = 0; round < 2; round += 1) {
      for (let attempt = 1; attempt < PER_ACCOUNT; attempt += 1) {
        expect((await failure(loginFrom(ip, email, 'not the password'))).code).toBe('UNAUTHENTICATED');
      }
      expect((await loginFrom(newAddress(), email, PASSWORD)).session?.id).toBeTruthy();
    }
  });

  it('When the email is unknown, then failures count and lock out exactly like a real account’s', async () => {
    const email = uniqueEmail('ghost');
    const ip = newAddress();

    for (let attempt = 1; attempt <= PER_ACCOUNT; attempt += 1) {
      expect((await failure(loginFrom(ip, email, PASSWORD))).code).toBe('UNAUTHENTICATED');
    }

    expect((await failure(loginFrom(newAddress(), email, PASSWORD))).code).toBe('RATE_LIMITED');
  });

  it('When the email is unknown, then the answer costs as much as a wrong password (a decoy hash is verified)', async () => {
    const timings = { wrong: [] as number[], unknown: [] as number[] };
    const timed = async (kind: keyof typeof timings, login: () => Promise<unknown>) => {
      const started = performance.now();
      await failure(login());
      timings[kind].push(performance.now() - started);
    };
    // Interleaved, each from a fresh address and account (under every limit).
    for (let round = 0; round < 5; round += 1) {
      const { email } = await registerAndLogin(service);
      await timed('wrong', () => loginFrom(newAddress(), email, `wrong-${round}`));
      await timed('unknown', () => loginFrom(newAddress(), uniqueEmail('nobody'), PASSWORD));
    }

    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    // Without the decoy an unknown email would answer in a few ms against argon2's tens of ms.
    expect(median(timings.unknown)).toBeGreaterThan(median(timings.wrong) * 0.5);
  });

  it('When a common password is chosen at registration, then VALIDATION_FAILED names the password and no account exists', async () => {
    const email = uniqueEmail('common');

    const error = await failure(
      callUnary(service.users, 'Register', { email, password: 'Password123', name: 'Common Choice' }),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([
      { field: 'password', message: 'is too common (found in lists of breached passwords)' },
    ]);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).toBe(0);
  });
});
