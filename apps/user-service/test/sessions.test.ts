import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type pg from 'pg';
import { callUnary } from '@te/grpc';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import {
  as,
  createIdentityEnv,
  failure,
  observeEvents,
  PASSWORD,
  queryPool,
  registerAndLogin,
  runJobNow,
  sessionPrincipal,
  startUserService,
  uniqueEmail,
  type RunningUserService,
} from './support/identity.harness.js';

// Sessions as refresh-token families (RFC 9700 §4.14.2) over real gRPC, PostgreSQL, Redis and RabbitMQ.
const QUEUE = 'sessions-test.session-events';

describe('sessions (in-process user-service)', () => {
  let env: ServiceTestEnv;
  let service: RunningUserService;
  let db: pg.Pool;
  let observer: Awaited<ReturnType<typeof observeEvents>>;

  beforeAll(async () => {
    env = await createIdentityEnv([QUEUE]);
    service = await startUserService(env);
    db = queryPool(env);
    observer = await observeEvents(env, QUEUE, ['session.revoked']);
  }, 60_000);

  afterAll(async () => {
    await observer?.close();
    await service?.stop();
    await db?.end();
    await env?.cleanup();
  });

  const refresh = (refreshToken: string) => callUnary(service.sessions, 'Refresh', { refreshToken });
  const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
  const sessionRow = async (id: string) =>
    (await db.query('SELECT * FROM sessions WHERE id = $1', [id])).rows[0] as Record<string, unknown>;
  const auditTypes = async (userId: string) =>
    (
      await db.query('SELECT type, details FROM security_events WHERE user_id = $1 ORDER BY created_at, id', [
        userId,
      ])
    ).rows as { type: string; details: Record<string, unknown> }[];
  const revokedEvent = (sessionId: string) =>
    waitFor(
      () => observer.received.find((event) => (event.data['session_ids'] as string[]).includes(sessionId)),
      {
        timeoutMs: 10_000,
        description: `session.revoked for ${sessionId}`,
      },
    );

  it('When a user signs in, then the session row has the client and only the refresh token’s SHA-256 is stored', async () => {
    const email = uniqueEmail('store');
    await registerAndLogin(service, email);
    const login = await as({ client: { ip: '198.51.100.7', userAgent: 'TestAgent/1.0' } }, () =>
      callUnary(service.users, 'Login', { email, password: PASSWORD }),
    );
    const session = login.session!;

    const row = await sessionRow(session.id);
    expect(row).toMatchObject({ auth_method: 'password', ip: '198.51.100.7', user_agent: 'TestAgent/1.0' });
    expect(row['revoked_at']).toBeNull();
    const tokens = await db.query(
      'SELECT token_hash, used_at, expires_at FROM refresh_tokens WHERE session_id = $1',
      [session.id],
    );
    expect(tokens.rows).toEqual([
      { token_hash: sha256(session.refreshToken), used_at: null, expires_at: expect.any(Date) },
    ]);
    const dump = JSON.stringify((await db.query('SELECT * FROM refresh_tokens')).rows);
    expect(dump).not.toContain(session.refreshToken.slice(3));
    expect(jwt.decode(session.accessToken!.token)).toMatchObject({ sid: session.id });
  });

  it('When a refresh token is used, then it is spent and a new pair for the same session comes back', async () => {
    const { user, session } = await registerAndLogin(service);

    const first = await refresh(session.refreshToken);

    expect(first.user?.id).toBe(user.id);
    expect(first.session).toMatchObject({ id: session.id, refreshTokenExpiresIn: expect.any(Number) });
    expect(first.session!.refreshToken).not.toBe(session.refreshToken);
    expect(jwt.decode(first.session!.accessToken!.token)).toMatchObject({ sub: user.id, sid: session.id });
    const spent = await db.query('SELECT used_at FROM refresh_tokens WHERE token_hash = $1', [
      sha256(session.refreshToken),
    ]);
    expect(spent.rows[0].used_at).not.toBeNull();
    const second = await refresh(first.session!.refreshToken);
    expect(second.session!.id).toBe(session.id);
  });

  it('When a spent refresh token is presented again, then the whole session is revoked, audited and announced', async () => {
    const { user, session } = await registerAndLogin(service);
    const rotated = await refresh(session.refreshToken);

    const reuse = await failure(refresh(session.refreshToken));

    expect(reuse.code).toBe('UNAUTHENTICATED');
    // The legitimate holder's current token dies with the family.
    expect((await failure(refresh(rotated.session!.refreshToken))).code).toBe('UNAUTHENTICATED');
    expect(await sessionRow(session.id)).toMatchObject({ revoked_reason: 'refresh_token_reused' });
    expect(await auditTypes(user.id)).toContainEqual({
      type: 'refresh_token_reused',
      details: { session_id: session.id, session_revoked: true },
    });
    const event = await revokedEvent(session.id);
    expect(event).toMatchObject({
      type: 'session.revoked',
      subject: user.id,
      data: { user_id: user.id, session_ids: [session.id], reason: 'refresh_token_reused' },
    });
  });

  it('When the same refresh token is used twice at the same moment, then exactly one wins and the other counts as reuse', async () => {
    const { session } = await registerAndLogin(service);

    const results = await Promise.allSettled([refresh(session.refreshToken), refresh(session.refreshToken)]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(rejected.reason).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await sessionRow(session.id)).toMatchObject({ revoked_reason: 'refresh_token_reused' });
    const { rows } = await db.query('SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = $1', [
      session.id,
    ]);
    expect(rows[0].n).toBe(2); // the original and exactly one successor
  });

  it('When the refresh token is unknown, malformed, idle-expired or its session past its absolute end, then 401', async () => {
    const idle = await registerAndLogin(service);
    await db.query(
      "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
      [sha256(idle.session.refreshToken)],
    );
    const old = await registerAndLogin(service);
    await db.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [
      old.session.id,
    ]);

    for (const token of [
      idle.session.refreshToken,
      old.session.refreshToken,
      `rt_${'A'.repeat(43)}`,
      'not-a-refresh-token',
      '',
    ]) {
      expect((await failure(refresh(token))).code).toBe('UNAUTHENTICATED');
    }
    // An expired token is not "reuse": the session was not revoked for it.
    expect((await sessionRow(idle.session.id))['revoked_at']).toBeNull();
  });

  it('When a user logs out, then that session ends (refresh refused, event published) and the others go on', async () => {
    const { email, user, session } = await registerAndLogin(service);
    const other = (await callUnary(service.users, 'Login', { email, password: PASSWORD })).session!;

    const response = await as({ principal: sessionPrincipal(user.id, session.id) }, () =>
      callUnary(service.sessions, 'Logout', { sessionId: session.id }),
    );

    expect(response.revokedSessionIds).toEqual([session.id]);
    expect((await failure(refresh(session.refreshToken))).code).toBe('UNAUTHENTICATED');
    expect((await refresh(other.refreshToken)).session?.id).toBe(other.id);
    expect(await sessionRow(session.id)).toMatchObject({ revoked_reason: 'logout' });
    expect((await auditTypes(user.id)).map((e) => e.type)).toContain('logout');
    expect((await revokedEvent(session.id)).data).toMatchObject({
      reason: 'logout',
      session_ids: [session.id],
    });
    // Logging out again changes nothing and is not an error.
    const again = await as({ principal: sessionPrincipal(user.id, session.id) }, () =>
      callUnary(service.sessions, 'Logout', { sessionId: session.id }),
    );
    expect(again.revokedSessionIds).toEqual([]);
  });

  it('When someone asks to end another user’s session (or a made-up id), then NOT_FOUND and it stays alive', async () => {
    const victim = await registerAndLogin(service);
    const attacker = await registerAndLogin(service);

    for (const sessionId of [victim.session.id, '01a210a7-0000-7000-8000-000000000000', "x' OR '1'='1"]) {
      const error = await failure(
        as({ principal: sessionPrincipal(attacker.user.id, attacker.session.id) }, () =>
          callUnary(service.sessions, 'Logout', { sessionId }),
        ),
      );
      expect(error.code).toBe('NOT_FOUND');
    }
    expect((await sessionRow(victim.session.id))['revoked_at']).toBeNull();
    const unauthenticated = await failure(
      callUnary(service.sessions, 'Logout', { sessionId: victim.session.id }),
    );
    expect(unauthenticated.code).toBe('UNAUTHENTICATED');
  });

  it('When a user logs out everywhere, then every session ends, including this one, and nobody else’s', async () => {
    const { email, user, session } = await registerAndLogin(service);
    const second = (await callUnary(service.users, 'Login', { email, password: PASSWORD })).session!;
    const bystander = await registerAndLogin(service);

    const response = await as({ principal: sessionPrincipal(user.id, session.id) }, () =>
      callUnary(service.sessions, 'LogoutAll', {}),
    );

    expect([...response.revokedSessionIds].sort()).toEqual([session.id, second.id].sort());
    for (const token of [session.refreshToken, second.refreshToken]) {
      expect((await failure(refresh(token))).code).toBe('UNAUTHENTICATED');
    }
    expect((await refresh(bystander.session.refreshToken)).session?.id).toBe(bystander.session.id);
    expect(await auditTypes(user.id)).toContainEqual({
      type: 'logout_all',
      details: { revoked_sessions: 2 },
    });
    const event = await revokedEvent(second.id);
    expect([...(event.data['session_ids'] as string[])].sort()).toEqual([session.id, second.id].sort());
  });

  it('When the purge job runs, then sessions past their end and expired refresh tokens are deleted, live ones kept', async () => {
    const ended = await registerAndLogin(service);
    const live = await registerAndLogin(service);
    const rotated = await refresh(live.session.refreshToken);
    await db.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [
      ended.session.id,
    ]);
    await db.query(
      "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
      [sha256(live.session.refreshToken)],
    );

    await runJobNow(service, 'sessions-purge');

    expect(await sessionRow(ended.session.id)).toBeUndefined();
    const remaining = await db.query('SELECT token_hash FROM refresh_tokens WHERE session_id = $1', [
      live.session.id,
    ]);
    expect(remaining.rows).toEqual([{ token_hash: sha256(rotated.session!.refreshToken) }]);
    expect((await refresh(rotated.session!.refreshToken)).session?.id).toBe(live.session.id);
  });
});
