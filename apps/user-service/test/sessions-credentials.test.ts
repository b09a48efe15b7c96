import type pg from 'pg';
import { callUnary } from '@te/grpc';
import type { Principal } from '@te/platform';
import type { ServiceTestEnv } from '@te/testing';
import {
  as,
  createIdentityEnv,
  failure,
  PASSWORD,
  queryPool,
  registerAndLogin,
  sessionPrincipal,
  startUserService,
  type RunningUserService,
} from './support/identity.harness.js';

// Password changes and the security audit log, over real gRPC and PostgreSQL.
const NEW_PASSWORD = 'a completely different passphrase';

describe('password change and security events (in-process user-service)', () => {
  let env: ServiceTestEnv;
  let service: RunningUserService;
  let db: pg.Pool;

  beforeAll(async () => {
    env = await createIdentityEnv();
    service = await startUserService(env, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' });
    db = queryPool(env);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await db?.end();
    await env?.cleanup();
  });

  const changePassword = (principal: Principal, currentPassword: string, newPassword: string) =>
    as({ principal, client: { ip: '192.0.2.10' } }, () =>
      callUnary(service.users, 'ChangePassword', { currentPassword, newPassword }),
    );
  const refresh = (refreshToken: string) => callUnary(service.sessions, 'Refresh', { refreshToken });
  const login = (email: string, password: string) => callUnary(service.users, 'Login', { email, password });
  const listEvents = (principal: Principal, pageSize = 0, pageToken = '') =>
    as({ principal }, () => callUnary(service.users, 'ListSecurityEvents', { pageSize, pageToken }));

  it('When the password is changed, then every other session ends, this one goes on, and only the new password signs in', async () => {
    const { email, user, session } = await registerAndLogin(service);
    const other = (await login(email, PASSWORD)).session!;

    const response = await changePassword(sessionPrincipal(user.id, session.id), PASSWORD, NEW_PASSWORD);

    expect(response.revokedSessionIds).toEqual([other.id]);
    expect((await failure(refresh(other.refreshToken))).code).toBe('UNAUTHENTICATED');
    expect((await refresh(session.refreshToken)).session?.id).toBe(session.id);
    expect((await failure(login(email, PASSWORD))).code).toBe('UNAUTHENTICATED');
    expect((await login(email, NEW_PASSWORD)).user?.id).toBe(user.id);
    const audit = await db.query(
      "SELECT ip, details FROM security_events WHERE user_id = $1 AND type = 'password_changed'",
      [user.id],
    );
    expect(audit.rows).toEqual([{ ip: '192.0.2.10', details: { revoked_sessions: 1 } }]);
    const hash = await db.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(hash.rows[0].password_hash).toMatch(/^\$argon2id\$/);
  });

  it('When the current password is wrong, then UNAUTHENTICATED names it, nothing changes, and repeated guesses are locked out', async () => {
    const { email, user, session } = await registerAndLogin(service);
    const other = (await login(email, PASSWORD)).session!;
    const principal = sessionPrincipal(user.id, session.id);

    const wrong = await failure(changePassword(principal, 'not my password', NEW_PASSWORD));

    expect(wrong.code).toBe('UNAUTHENTICATED');
    expect(wrong.fields).toEqual([{ field: 'current_password', message: 'is incorrect' }]);
    expect((await refresh(other.refreshToken)).session?.id).toBe(other.id);
    await failure(changePassword(principal, 'guess 2', NEW_PASSWORD));
    await failure(changePassword(principal, 'guess 3', NEW_PASSWORD));
    const locked = await failure(changePassword(principal, PASSWORD, NEW_PASSWORD));
    expect(locked.code).toBe('RATE_LIMITED');
    expect(locked.retryAfterSeconds).toBeGreaterThan(0);
    expect((await failure(login(email, PASSWORD))).code).toBe('RATE_LIMITED');
  });

  it('When the new password breaks the policy, then VALIDATION_FAILED names new_password and the old one still works', async () => {
    const { email, user, session } = await registerAndLogin(service);
    const principal = sessionPrincipal(user.id, session.id);

    for (const [candidate, message] of [
      ['iloveyou1', 'is too common (found in lists of breached passwords)'],
      ['short', 'must be at least 8 characters'],
      [email, 'must not be your email address or name'],
    ]) {
      const error = await failure(changePassword(principal, PASSWORD, candidate));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ field: 'new_password', message }]);
    }
    expect((await login(email, PASSWORD)).user?.id).toBe(user.id);
  });

  it('When the account has no password (OIDC only) or no caller is given, then PRECONDITION_FAILED / UNAUTHENTICATED', async () => {
    const { user, session } = await registerAndLogin(service);
    await db.query('UPDATE users SET password_hash = NULL WHERE id = $1', [user.id]);

    const noPassword = await failure(
      changePassword(sessionPrincipal(user.id, session.id), PASSWORD, NEW_PASSWORD),
    );
    const anonymous = await failure(
      callUnary(service.users, 'ChangePassword', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    );

    expect(noPassword.code).toBe('PRECONDITION_FAILED');
    expect(anonymous.code).toBe('UNAUTHENTICATED');
  });

  it('When a user reads the security log, then it lists their own sign-in history newest first, with client details and no secrets', async () => {
    const { email, user, session } = await registerAndLogin(service);
    await failure(login(email, 'wrong password'));
    await as({ client: { ip: '198.51.100.20', userAgent: 'Browser/2.0' } }, () => login(email, PASSWORD));
    const stranger = await registerAndLogin(service);

    const { events, nextPageToken } = await listEvents(sessionPrincipal(user.id, session.id));

    const types = events.map((event) => event.type);
    expect(types.slice(0, 2)).toEqual(['sign_in', 'sign_in_failed']);
    // Registration writes these two within the same millisecond: their relative order is not meaningful.
    expect(types.slice(2).sort()).toEqual(['account_created', 'sign_in']);
    expect(events[0]).toMatchObject({ ip: '198.51.100.20', userAgent: 'Browser/2.0' });
    expect(JSON.parse(events[0].detailsJson)).toEqual({ method: 'password', session_id: expect.any(String) });
    expect(JSON.parse(events[1].detailsJson)).toEqual({ method: 'password', reason: 'wrong_password' });
    expect(nextPageToken).toBe('');
    const text = JSON.stringify(events);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(stranger.user.id);
    expect(text).not.toContain(session.refreshToken);
  });

  it('When the log is read page by page, then the opaque page token walks it without gaps or repeats, and a forged token is refused', async () => {
    const { email, user, session } = await registerAndLogin(service);
    for (let i = 0; i < 2; i += 1) await failure(login(email, `wrong ${i}`));
    await login(email, PASSWORD);
    const principal = sessionPrincipal(user.id, session.id);
    const all = (await listEvents(principal, 100)).events.map((event) => event.id);
    expect(all).toHaveLength(5);

    const seen: string[] = [];
    let token = '';
    do {
      const page = await listEvents(principal, 2, token);
      seen.push(...page.events.map((event) => event.id));
      token = page.nextPageToken;
    } while (token);

    expect(seen).toEqual(all);
    for (const [pageSize, pageToken, field] of [
      [4, 'not a token!', 'page_token'],
      [4, Buffer.from('{"t":"yesterday","id":"x"}').toString('base64url'), 'page_token'],
      [101, '', 'page_size'],
      [-1, '', 'page_size'],
    ] as const) {
      const error = await failure(listEvents(principal, pageSize, pageToken));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields?.map((f) => f.field)).toEqual([field]);
    }
  });
});
