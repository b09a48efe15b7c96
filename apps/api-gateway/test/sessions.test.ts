import { waitFor } from '@te/testing';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { decodeToken } from './support/tokens.js';
import { UserServiceProcess } from './support/user-service.process.js';

// Sessions end to end: the gateway in this process, the built user-service process, real PostgreSQL,
// Redis (revocation list, login counters) and RabbitMQ (`session.revoked` from user-service's outbox).
let userService: UserServiceProcess | undefined;
let gateway: RunningGateway;
const MAX_FAILURES = 3;

beforeAll(async () => {
  userService = await UserServiceProcess.create({ LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_FAILURES) });
  await userService.start();
  gateway = await startGateway(userService.address);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
}, 60_000);

interface SecurityEvent {
  id: string;
  type: string;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });
const login = async (credentials: { email: string; password: string }) => {
  const response = await call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
    json: { email: credentials.email, password: credentials.password },
  });
  expect(response.status).toBe(200);
  return response.body.data!;
};
const refresh = (refreshToken: unknown) =>
  call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/refresh', { json: { refresh_token: refreshToken } });
const me = (accessToken: string) =>
  call<{ user: Session['user'] }>(gateway.baseUrl, 'GET', '/api/v1/users/me', {
    headers: bearer(accessToken),
  });
const post = (path: string, accessToken: string, json?: unknown) =>
  call<{ revoked_session_ids: string[] }>(gateway.baseUrl, 'POST', path, {
    headers: bearer(accessToken),
    json,
  });
const securityEvents = (accessToken: string, query = '') =>
  call<{ events: SecurityEvent[]; next_page_token: string | null }>(
    gateway.baseUrl,
    'GET',
    `/api/v1/users/me/security-events${query}`,
    { headers: bearer(accessToken) },
  );
const signUp = async () => {
  const { status, body, credentials } = await register(gateway.baseUrl, newCredentials('sessions'));
  expect(status).toBe(201);
  return { credentials, session: body.data! };
};
/** Polls until the gateway refuses the access token (revocations that arrive as events). */
const rejectedSoon = (accessToken: string) =>
  waitFor(async () => (await me(accessToken)).status === 401, {
    timeoutMs: 15_000,
    intervalMs: 100,
    description: 'the gateway to refuse the revoked session’s access token',
  });

describe('POST /api/v1/auth/refresh', () => {
  test('When a refresh token is exchanged, then 200 returns a new pair for the same session, uncacheable, and the new access token works', async () => {
    const { session } = await signUp();

    const { status, headers, body } = await refresh(session.refresh_token);

    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('pragma')).toBe('no-cache');
    const next = body.data!;
    expect(next).toMatchObject({
      user: session.user,
      token_type: 'Bearer',
      expires_in: 900,
      session_id: session.session_id,
      refresh_token: expect.stringMatching(/^rt_[A-Za-z0-9_-]{43}$/),
      refresh_token_expires_in: expect.any(Number),
    });
    expect(next.refresh_token).not.toBe(session.refresh_token);
    expect(decodeToken(next.access_token).claims).toMatchObject({
      sub: session.user.id,
      sid: session.session_id,
    });
    expect((await me(next.access_token)).status).toBe(200);
  });

  test('When a rotated refresh token is replayed, then 401, the newer token dies too, the session’s access tokens are refused and the reuse is in the security log', async () => {
    const { credentials, session } = await signUp();
    const rotated = (await refresh(session.refresh_token)).body.data!; // A → B

    const replay = await refresh(session.refresh_token); // A again

    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ success: false, data: null, error: { code: 'UNAUTHENTICATED' } });
    expect((await refresh(rotated.refresh_token)).status).toBe(401); // B no longer refreshes
    // user-service revoked the family and announced it; the gateway now refuses its access tokens.
    await rejectedSoon(rotated.access_token);
    expect((await me(session.access_token)).status).toBe(401);
    const other = await login(credentials);
    expect((await me(other.access_token)).status).toBe(200);
    const { body } = await securityEvents(other.access_token);
    expect(body.data!.events).toContainEqual(
      expect.objectContaining({
        type: 'refresh_token_reused',
        details: { session_id: session.session_id, session_revoked: true },
      }),
    );
  });

  test('When the refresh token is missing, malformed, unknown or sent with extra members, then 400 or 401 in the envelope, never 5xx', async () => {
    const missing = await call(gateway.baseUrl, 'POST', '/api/v1/auth/refresh', { json: {} });
    const wrongType = await refresh(42);
    const extra = await call(gateway.baseUrl, 'POST', '/api/v1/auth/refresh', {
      json: { refresh_token: `rt_${'a'.repeat(43)}`, session_id: 'x' },
    });
    const unknown = await refresh(`rt_${'a'.repeat(43)}`);
    const garbage = await refresh('not-a-token');

    expect([missing.status, missing.body.error?.fields]).toEqual([
      400,
      [{ field: 'refresh_token', message: expect.any(String) }],
    ]);
    expect(wrongType.status).toBe(400);
    expect(extra.body.error?.fields).toEqual([{ field: 'session_id', message: 'is not allowed' }]);
    for (const response of [unknown, garbage]) {
      expect(response.status).toBe(401);
      expect(response.body.error?.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('logout', () => {
  test('When a user logs out, then this access token is refused at once, its refresh token is dead, and other sessions go on', async () => {
    const { credentials, session } = await signUp();
    const other = await login(credentials);

    const { status, headers, body } = await post('/api/v1/auth/logout', session.access_token);

    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ success: true, data: { revoked_session_ids: [session.session_id] } });
    expect((await me(session.access_token)).status).toBe(401); // no waiting: marked by the route itself
    expect((await refresh(session.refresh_token)).status).toBe(401);
    expect((await me(other.access_token)).status).toBe(200);
    const events = (await securityEvents(other.access_token)).body.data!.events;
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'logout',
        ip: expect.any(String),
        details: { session_id: session.session_id },
      }),
    );
  });

  test('When logout is called without a token or with a body naming a session, then 401 / 400 and nothing ends', async () => {
    const { session } = await signUp();

    const anonymous = await call(gateway.baseUrl, 'POST', '/api/v1/auth/logout');
    const named = await post('/api/v1/auth/logout', session.access_token, { session_id: session.session_id });

    expect(anonymous.status).toBe(401);
    expect([named.status, named.body.error?.fields]).toEqual([
      400,
      [{ field: 'session_id', message: 'is not allowed' }],
    ]);
    expect((await me(session.access_token)).status).toBe(200);
  });

  test('When a user logs out everywhere, then every session’s access and refresh tokens stop at once', async () => {
    const { credentials, session } = await signUp();
    const second = await login(credentials);
    const bystander = await signUp();

    const { status, body } = await post('/api/v1/auth/logout-all', second.access_token);

    expect(status).toBe(200);
    expect([...body.data!.revoked_session_ids].sort()).toEqual(
      [session.session_id, second.session_id].sort(),
    );
    for (const ended of [session, second]) {
      expect((await me(ended.access_token)).status).toBe(401);
      expect((await refresh(ended.refresh_token)).status).toBe(401);
    }
    expect((await me(bystander.session.access_token)).status).toBe(200);
    const fresh = await login(credentials);
    expect((await securityEvents(fresh.access_token)).body.data!.events).toContainEqual(
      expect.objectContaining({ type: 'logout_all', details: { revoked_sessions: 2 } }),
    );
  });
});

describe('POST /api/v1/users/me/password', () => {
  const newPassword = 'an entirely new passphrase';

  test('When the password is changed, then the other sessions’ access and refresh tokens stop, this session keeps working, and only the new password signs in', async () => {
    const { credentials, session } = await signUp();
    const other = await login(credentials);

    const { status, body } = await post('/api/v1/users/me/password', session.access_token, {
      current_password: credentials.password,
      new_password: newPassword,
    });

    expect(status).toBe(200);
    expect(body.data).toEqual({ revoked_session_ids: [other.session_id] });
    expect((await me(other.access_token)).status).toBe(401);
    expect((await refresh(other.refresh_token)).status).toBe(401);
    expect((await me(session.access_token)).status).toBe(200);
    expect((await refresh(session.refresh_token)).status).toBe(200);
    const oldPassword = await call(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
      json: { email: credentials.email, password: credentials.password },
    });
    expect(oldPassword.status).toBe(401);
    await login({ email: credentials.email, password: newPassword });
    const events = (await securityEvents(session.access_token)).body.data!.events;
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'password_changed', details: { revoked_sessions: 1 } }),
    );
  });

  test('When the current password is wrong or the new one is common, then 403 / 400 name the field and nothing changes', async () => {
    const { credentials, session } = await signUp();

    const wrong = await post('/api/v1/users/me/password', session.access_token, {
      current_password: 'not the password',
      new_password: newPassword,
    });
    const common = await post('/api/v1/users/me/password', session.access_token, {
      current_password: credentials.password,
      new_password: 'Password123',
    });
    const extra = await post('/api/v1/users/me/password', session.access_token, {
      current_password: credentials.password,
      new_password: newPassword,
      user_id: 'someone-else',
    });

    expect([wrong.status, wrong.body.error]).toEqual([
      403,
      {
        code: 'FORBIDDEN',
        message: 'The current password is incorrect',
        fields: [{ field: 'current_password', message: 'is incorrect' }],
      },
    ]);
    expect([common.status, common.body.error?.fields]).toEqual([
      400,
      [{ field: 'new_password', message: expect.stringContaining('common') }],
    ]);
    expect([extra.status, extra.body.error?.fields]).toEqual([
      400,
      [{ field: 'user_id', message: 'is not allowed' }],
    ]);
    await login(credentials);
  });
});

describe('sign-in protection', () => {
  test('When an account fails too often, then login answers 429 with Retry-After (even with the right password) and the lockout is in its security log', async () => {
    const { credentials, session } = await signUp();

    for (let attempt = 1; attempt <= MAX_FAILURES; attempt += 1) {
      const failed = await call(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
        json: { email: credentials.email, password: `wrong-${attempt}` },
      });
      expect(failed.status).toBe(401);
    }
    const locked = await call(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
      json: { email: credentials.email, password: credentials.password },
    });

    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ success: false, data: null, error: { code: 'RATE_LIMITED' } });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    const events = (await securityEvents(session.access_token)).body.data!.events;
    expect(events.filter((event) => event.type === 'lockout')).toEqual([
      expect.objectContaining({
        ip: expect.any(String),
        details: { scope: 'account', retry_after_seconds: expect.any(Number) },
      }),
    ]);
    expect(events.filter((event) => event.type === 'sign_in_failed')).toHaveLength(MAX_FAILURES);
  });
});

describe('GET /api/v1/users/me/security-events', () => {
  test('When the log is paged, then page_size and the opaque next_page_token walk it newest first', async () => {
    const { credentials, session } = await signUp();
    await login(credentials);
    await login(credentials);

    const first = await securityEvents(session.access_token, '?page_size=2');
    const second = await securityEvents(
      session.access_token,
      `?page_size=2&page_token=${encodeURIComponent(first.body.data!.next_page_token!)}`,
    );

    expect(first.status).toBe(200);
    expect(first.body.data!.events.map((event) => event.type)).toEqual(['sign_in', 'sign_in']);
    expect(first.body.data!.events[0]).toMatchObject({
      ip: expect.any(String),
      created_at: expect.any(String),
    });
    expect(second.body.data!.events.map((event) => event.type).sort()).toEqual([
      'account_created',
      'sign_in',
    ]);
    expect(second.body.data!.next_page_token).toBeNull();
  });

  test('When the query is bad or the caller unauthenticated, then 400 names the parameter / 401', async () => {
    const { session } = await signUp();

    const tooBig = await securityEvents(session.access_token, '?page_size=500');
    const unknown = await securityEvents(session.access_token, '?user_id=someone');
    const forged = await securityEvents(session.access_token, '?page_token=forged');
    const anonymous = await call(gateway.baseUrl, 'GET', '/api/v1/users/me/security-events');

    expect([tooBig.status, tooBig.body.error?.fields?.[0]?.field]).toEqual([400, 'page_size']);
    expect([unknown.status, unknown.body.error?.fields?.[0]?.field]).toEqual([400, 'user_id']);
    expect([forged.status, forged.body.error?.fields?.[0]?.field]).toEqual([400, 'page_token']);
    expect(anonymous.status).toBe(401);
  });
});
