import { createHash } from 'node:crypto';
import { connect } from 'amqplib';
import { SCOPES } from '@te/platform';
import { waitFor } from '@te/testing';
import {
  callApi,
  dataOf,
  newAccount,
  type ApiResponse,
  type PublicUser,
  type Session,
} from '../src/gateway-client.js';
import { EVENT_TIMEOUT_MS, logLine, platformEventsOf, publishedOutboxRows } from '../src/slice-probes.js';
import { SystemStack } from '../src/system-stack.js';

// Identity across the five real processes (see ../README.md): refresh-token rotation and reuse,
// sign-out everywhere, API keys and account deletion. One stack for the whole file, as in
// first-slice.test.ts: each test arranges its own users (unique emails) and waits for their events.
const stack = new SystemStack();

beforeAll(() => stack.start(), 240_000);

afterAll(async () => {
  await stack.teardown();
  expect(await stack.leftovers()).toEqual([]);
}, 120_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const REFRESH_TOKEN = /^rt_[A-Za-z0-9_-]{43}$/;
const API_KEY_PREFIX = /^tek_[0-9a-hjkmnp-tv-z]{8}$/;
const API_KEY = /^tek_[0-9a-hjkmnp-tv-z]{8}_[A-Za-z0-9_-]{43}$/;

/** What register, login and refresh answer: the access token and the session's refresh token. */
interface SignIn extends Session {
  refresh_token: string;
  refresh_token_expires_in: number;
  session_id: string;
}

interface SecurityEventView {
  id: string;
  type: string;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

type Account = ReturnType<typeof newAccount>;

/** A new account, signed in by its registration, whose user.registered has settled. */
async function signUp(label: string): Promise<{ account: Account; session: SignIn }> {
  const account = newAccount(label);
  const response = await callApi<SignIn>(stack.gatewayUrl('/api/v1/auth/register'), { body: account });
  expect(response.status).toBe(201);
  const session = dataOf(response);
  // Arranged means settled: no event of this test is still in flight when the next one measures.
  await platformEventsOf(stack, session.user.id);
  return { account, session };
}

function login(account: { email: string; password: string }): Promise<ApiResponse<SignIn>> {
  return callApi<SignIn>(stack.gatewayUrl('/api/v1/auth/login'), {
    body: { email: account.email, password: account.password },
  });
}

async function signIn(account: Account): Promise<SignIn> {
  const response = await login(account);
  expect(response.status).toBe(200);
  return dataOf(response);
}

function refresh(refreshToken: string): Promise<ApiResponse<SignIn>> {
  return callApi<SignIn>(stack.gatewayUrl('/api/v1/auth/refresh'), {
    body: { refresh_token: refreshToken },
  });
}

/** GET /api/v1/users/me with an access token (`token`) or other headers (an API key). */
function me(credential: { token?: string; headers?: Record<string, string> }) {
  return callApi<{ user: PublicUser }>(stack.gatewayUrl('/api/v1/users/me'), credential);
}

async function meStatus(credential: { token?: string; headers?: Record<string, string> }): Promise<number> {
  return (await me(credential)).status;
}

function logoutAll(credential: { token?: string; headers?: Record<string, string> }) {
  return callApi<{ revoked_session_ids: string[] }>(stack.gatewayUrl('/api/v1/auth/logout-all'), {
    method: 'POST',
    ...credential,
  });
}

async function securityEvents(accessToken: string): Promise<SecurityEventView[]> {
  const response = await callApi<{ events: SecurityEventView[]; next_page_token: string | null }>(
    stack.gatewayUrl('/api/v1/users/me/security-events'),
    { token: accessToken },
  );
  expect(response.status).toBe(200);
  return dataOf(response).events;
}

async function createApiKey(
  accessToken: string,
  input: { name: string; scopes: string[] },
): Promise<ApiResponse<{ api_key: ApiKeyView; secret: string }>> {
  return callApi(stack.gatewayUrl('/api/v1/api-keys'), { token: accessToken, body: input });
}

/** A DELETE that answers 204 without a body (callApi expects an envelope). */
async function deleteWithoutBody(
  pathname: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const response = await fetch(stack.gatewayUrl(pathname), { method: 'DELETE', headers });
  return { status: response.status, body: await response.text() };
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

/** The sessions of a user as user-service stores them. */
function sessionRows(userId: string) {
  return stack.query<{ id: string; revoked_at: Date | null; revoked_reason: string | null }>(
    'user-service',
    'SELECT id::text, revoked_at, revoked_reason FROM sessions WHERE user_id = $1::uuid ORDER BY id',
    [userId],
  );
}

/** The published session.revoked outbox row of `userId` for `reason` (waits for the relay). */
async function publishedRevocation(userId: string, reason: string) {
  const rows = await publishedOutboxRows(stack, userId);
  return rows.filter(
    (row) =>
      row.type === 'session.revoked' &&
      (row.envelope['data'] as Record<string, unknown>)['reason'] === reason,
  );
}

interface TappedMessage {
  routingKey: string;
  messageId: string | undefined;
  envelope: Record<string, unknown>;
}

/**
 * A throwaway queue of the test's own on the run's exchange, bound to `routingKey`: what RabbitMQ
 * routes there is collected. Exclusive, so the broker deletes it when `close()` ends the connection.
 */
async function tapExchange(
  routingKey: string,
): Promise<{ received: TappedMessage[]; close(): Promise<void> }> {
  const connection = await connect(stack.amqp.url, { timeout: 10_000 });
  try {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, durable: false, autoDelete: true });
    await channel.bindQueue(queue, stack.amqp.exchange, routingKey);
    const received: TappedMessage[] = [];
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        received.push({
          routingKey: message.fields.routingKey,
          messageId: message.properties.messageId as string | undefined,
          envelope: JSON.parse(message.content.toString('utf8')) as Record<string, unknown>,
        });
      },
      { noAck: true },
    );
    return { received, close: () => connection.close() };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

describe('Identity across the gateway, user-service and RabbitMQ', () => {
  it('When a refresh token is exchanged, then a new pair comes back; when the spent one is presented again, then 401, the whole session is revoked and session.revoked makes the gateway refuse its newest access token, and the security log shows the reuse', async () => {
    const { account, session: first } = await signUp('refresh-reuse');
    const userId = first.user.id;

    // Rotation: a new pair for the same session; the refresh token is single use
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(rotated.headers.get('pragma')).toBe('no-cache');
    const second = dataOf(rotated);
    expect(second).toEqual({
      user: first.user,
      access_token: expect.stringMatching(JWT),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(REFRESH_TOKEN),
      refresh_token_expires_in: expect.any(Number),
      session_id: first.session_id,
    });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.refresh_token_expires_in).toBeGreaterThan(0);
    expect(second.refresh_token_expires_in).toBeLessThanOrEqual(first.refresh_token_expires_in);
    expect(second.access_token).not.toBe(first.access_token);
    expect(await meStatus({ token: second.access_token })).toBe(200);

    // Reuse: the spent token is refused and ends the family
    const reuse = await refresh(first.refresh_token);
    expect(reuse.status).toBe(401);
    expect(reuse.body).toMatchObject({
      success: false,
      data: null,
      error: { code: 'UNAUTHENTICATED', message: expect.any(String) },
    });
    const afterReuse = await refresh(second.refresh_token);
    expect(afterReuse.status).toBe(401);
    // The same answer as any other bad token: a caller learns nothing about which tokens exist.
    expect(afterReuse.body.error).toEqual(reuse.body.error);
    expect(await sessionRows(userId)).toEqual([
      { id: first.session_id, revoked_at: expect.any(Date), revoked_reason: 'refresh_token_reused' },
    ]);

    // The refresh route marks nothing in the gateway: only session.revoked (user-service → outbox →
    // RabbitMQ → the gateway's consumer → Redis) can make this still unexpired token fail.
    await waitFor(async () => (await meStatus({ token: second.access_token })) === 401, {
      timeoutMs: EVENT_TIMEOUT_MS,
      intervalMs: 100,
      description: "the gateway to refuse the reused session's newest access token",
    });
    expect(await meStatus({ token: first.access_token })).toBe(401);
    const [revocation] = await publishedRevocation(userId, 'refresh_token_reused');
    expect(revocation).toMatchObject({ attempts: 0, last_error: null });
    expect(revocation.envelope).toMatchObject({
      source: 'user-service',
      subject: userId,
      data: {
        user_id: userId,
        session_ids: [first.session_id],
        reason: 'refresh_token_reused',
        revoked_at: expect.stringMatching(ISO_TIME),
      },
    });
    expect(
      await logLine(stack, 'api-gateway', { message: 'sessions revoked', reason: 'refresh_token_reused' }),
    ).toMatchObject({ sessions: 1 });

    // The security log, read from a new sign-in
    const again = await signIn(account);
    expect(again.session_id).not.toBe(first.session_id);
    const events = await securityEvents(again.access_token);
    expect(events.map((event) => event.type).sort()).toEqual([
      'account_created',
      'refresh_token_reused',
      'sign_in',
      'sign_in',
    ]);
    expect(events[0]).toMatchObject({ type: 'sign_in', details: { session_id: again.session_id } });
    expect(events.find((event) => event.type === 'refresh_token_reused')).toEqual({
      id: expect.stringMatching(UUID),
      type: 'refresh_token_reused',
      ip: expect.any(String),
      user_agent: expect.any(String),
      details: { session_id: first.session_id, session_revoked: true },
      created_at: expect.stringMatching(ISO_TIME),
    });
  });

  it('When a user signs out everywhere with one session, then 200 with every session id, and every access token and refresh token of those sessions is refused', async () => {
    const { account, session: registration } = await signUp('logout-all');
    const userId = registration.user.id;
    const phone = await signIn(account);
    const laptop = await signIn(account);
    expect(await meStatus({ token: phone.access_token })).toBe(200);
    expect(await meStatus({ token: laptop.access_token })).toBe(200);

    const response = await logoutAll({ token: phone.access_token });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ success: true, error: null });
    const sessionIds = [registration.session_id, phone.session_id, laptop.session_id].sort();
    expect([...dataOf(response).revoked_session_ids].sort()).toEqual(sessionIds);
    // The route marks them in the gateway before answering: refused at once, no waiting.
    for (const session of [phone, laptop, registration]) {
      const answer = await me({ token: session.access_token });
      expect(answer.status).toBe(401);
      expect(answer.body.error).toEqual({ code: 'UNAUTHENTICATED', message: expect.any(String) });
    }
    for (const session of [phone, laptop]) {
      const answer = await refresh(session.refresh_token);
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('UNAUTHENTICATED');
    }
    const rows = await sessionRows(userId);
    expect(rows.map((row) => row.id)).toEqual(sessionIds);
    expect(rows.every((row) => row.revoked_at !== null && row.revoked_reason === 'logout_all')).toBe(true);
    const [revocation] = await publishedRevocation(userId, 'logout_all');
    expect(
      [...((revocation.envelope['data'] as { session_ids: string[] }).session_ids ?? [])].sort(),
    ).toEqual(sessionIds);

    // Signing in again works, and the security log records the sign-out everywhere
    const again = await signIn(account);
    expect(await meStatus({ token: again.access_token })).toBe(200);
    const events = await securityEvents(again.access_token);
    expect(events.find((event) => event.type === 'logout_all')).toMatchObject({
      details: { revoked_sessions: 3 },
    });
  });

  it('When a user creates an API key, then its secret is shown once, works as X-API-Key and as a bearer token within its scopes, cannot sign the user out, and after DELETE is refused', async () => {
    const { session } = await signUp('api-key');
    const name = 'e2e read-only key';

    const created = await createApiKey(session.access_token, { name, scopes: [SCOPES.profileRead] });

    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      success: true,
      error: null,
      data: {
        api_key: {
          id: expect.stringMatching(UUID),
          name,
          prefix: expect.stringMatching(API_KEY_PREFIX),
          scopes: [SCOPES.profileRead],
          created_at: expect.stringMatching(ISO_TIME),
          expires_at: null,
          last_used_at: null,
        },
        secret: expect.stringMatching(API_KEY),
      },
    });
    const { api_key: key, secret } = dataOf(created);
    expect(secret.startsWith(`${key.prefix}_`)).toBe(true);
    // user-service keeps only SHA-256 of the key
    const stored = await stack.query<{ prefix: string; secret_hash: string }>(
      'user-service',
      'SELECT prefix, secret_hash FROM api_keys WHERE id = $1::uuid',
      [key.id],
    );
    expect(stored).toEqual([
      { prefix: key.prefix, secret_hash: createHash('sha256').update(secret).digest('base64url') },
    ]);

    // Both ways of presenting it act for the owner
    for (const headers of [{ 'x-api-key': secret }, bearer(secret)]) {
      const answer = await me({ headers });
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ user: session.user });
    }
    // Within its scopes only
    const patch = await callApi(stack.gatewayUrl('/api/v1/users/me'), {
      method: 'PATCH',
      headers: { 'x-api-key': secret },
      body: { name: 'renamed by a read-only key' },
    });
    expect(patch.status).toBe(403);
    expect(patch.body.error?.code).toBe('FORBIDDEN');
    expect(patch.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", scope="${SCOPES.profileWrite}"`,
    );
    // A key has no session: it cannot end the owner's sessions, and none ended
    const signOut = await logoutAll({ headers: { 'x-api-key': secret } });
    expect(signOut.status).toBe(403);
    expect(signOut.body.error?.code).toBe('FORBIDDEN');
    expect(await meStatus({ token: session.access_token })).toBe(200);
    expect((await sessionRows(session.user.id)).map((row) => row.revoked_at)).toEqual([null]);

    // The listing shows the key (used now) but never its secret
    const listing = await callApi<{ api_keys: ApiKeyView[] }>(stack.gatewayUrl('/api/v1/api-keys'), {
      token: session.access_token,
    });
    expect(listing.status).toBe(200);
    expect(dataOf(listing).api_keys).toEqual([{ ...key, last_used_at: expect.stringMatching(ISO_TIME) }]);
    const secretPart = secret.slice(key.prefix.length + 1);
    expect(JSON.stringify(listing.body)).not.toContain(secretPart);
    expect(stack.allOutput()).not.toContain(secretPart);

    // Revoked: 204, and the key is refused from the next request on
    expect(await deleteWithoutBody(`/api/v1/api-keys/${key.id}`, bearer(session.access_token))).toEqual({
      status: 204,
      body: '',
    });
    for (const headers of [{ 'x-api-key': secret }, bearer(secret)]) {
      const answer = await me({ headers });
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('UNAUTHENTICATED');
    }
    const events = await securityEvents(session.access_token);
    expect(events.filter((event) => event.type.startsWith('api_key_'))).toEqual([
      expect.objectContaining({
        type: 'api_key_revoked',
        details: expect.objectContaining({ api_key_id: key.id }),
      }),
      expect.objectContaining({
        type: 'api_key_created',
        details: expect.objectContaining({ api_key_id: key.id }),
      }),
    ]);
  });

  it('When a user deletes their account with a session (an API key is refused), then 204, every credential is refused, the rows are gone from user-service, and user.deleted and session.revoked are published to RabbitMQ', async () => {
    const { account, session } = await signUp('delete');
    const userId = session.user.id;
    const other = await signIn(account);
    const created = await createApiKey(session.access_token, {
      name: 'e2e profile key',
      scopes: [SCOPES.profileRead, SCOPES.profileWrite],
    });
    expect(created.status).toBe(201);
    const { api_key: key, secret } = dataOf(created);
    expect(await meStatus({ headers: { 'x-api-key': secret } })).toBe(200); // now cached by the gateway

    // Irreversible, so a session only: even a key with profile:write is refused, and nothing is deleted
    const byKey = await callApi(stack.gatewayUrl('/api/v1/users/me'), {
      method: 'DELETE',
      headers: { 'x-api-key': secret },
    });
    expect(byKey.status).toBe(403);
    expect(byKey.body.error?.code).toBe('FORBIDDEN');
    expect(
      await stack.query('user-service', 'SELECT 1 FROM users WHERE id = $1::uuid', [userId]),
    ).toHaveLength(1);

    // Stands for every service that erases its data on user.deleted (context-service binds it too).
    const tap = await tapExchange('user.deleted');
    try {
      expect(await deleteWithoutBody('/api/v1/users/me', bearer(session.access_token))).toEqual({
        status: 204,
        body: '',
      });

      // Every credential ends at once
      for (const token of [session.access_token, other.access_token]) {
        const answer = await me({ token });
        expect(answer.status).toBe(401);
        expect(answer.body.error?.code).toBe('UNAUTHENTICATED');
      }
      expect(await meStatus({ headers: { 'x-api-key': secret } })).toBe(401);
      expect((await refresh(other.refresh_token)).status).toBe(401);
      const oldPassword = await login(account);
      expect(oldPassword.status).toBe(401);
      expect(oldPassword.body.error?.code).toBe('UNAUTHENTICATED');

      // user-service's database: the account and everything hanging off it are gone
      for (const sql of [
        'SELECT 1 FROM users WHERE id = $1::uuid',
        'SELECT 1 FROM sessions WHERE user_id = $1::uuid',
        'SELECT 1 FROM api_keys WHERE user_id = $1::uuid',
        'SELECT 1 FROM security_events WHERE user_id = $1::uuid',
      ]) {
        expect(await stack.query('user-service', sql, [userId])).toEqual([]);
      }
      expect(
        await stack.query('user-service', 'SELECT 1 FROM api_keys WHERE id = $1::uuid', [key.id]),
      ).toEqual([]);

      // The outbox: user.deleted and session.revoked written with the deletion, both published
      const outbox = await publishedOutboxRows(stack, userId);
      expect(outbox.map((row) => row.type).sort()).toEqual([
        'session.revoked',
        'user.deleted',
        'user.registered',
      ]);
      const deleted = outbox.find((row) => row.type === 'user.deleted');
      expect(deleted).toMatchObject({ attempts: 0, last_error: null, published_at: expect.any(Date) });
      expect(deleted?.envelope).toEqual(
        expect.objectContaining({
          specversion: '1.0',
          type: 'user.deleted',
          source: 'user-service',
          subject: userId,
          data: { user_id: userId, deleted_at: expect.stringMatching(ISO_TIME) },
        }),
      );
      const revoked = outbox.find((row) => row.type === 'session.revoked');
      expect(revoked?.envelope['data']).toMatchObject({ user_id: userId, reason: 'account_deleted' });
      expect([...(revoked?.envelope['data'] as { session_ids: string[] }).session_ids].sort()).toEqual(
        [session.session_id, other.session_id].sort(),
      );

      // RabbitMQ routed user.deleted to a queue bound to it: the same event, without personal data
      const message = await waitFor(
        () => tap.received.find((received) => received.envelope['subject'] === userId),
        {
          timeoutMs: EVENT_TIMEOUT_MS,
          intervalMs: 100,
          description: `user.deleted of ${userId} on the exchange`,
        },
      );
      expect(message).toEqual({
        routingKey: 'user.deleted',
        messageId: deleted?.id,
        envelope: deleted?.envelope,
      });
      expect(JSON.stringify(message.envelope)).not.toContain(account.email);
    } finally {
      await tap.close();
    }
  });
});
