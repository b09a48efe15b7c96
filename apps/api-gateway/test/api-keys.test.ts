import { waitFor } from '@te/testing';
import {
  call,
  register,
  startGateway,
  type ApiResponse,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// A real user-service process (own database) granting a short cache lifetime for resolved keys, and
// two gateways in this process: `otherReplica` plays a second replica that did not see a revocation.
const SHORT_TTL_SECONDS = 5;
let userService: UserServiceProcess | undefined;
let gateway: RunningGateway;
let otherReplica: RunningGateway;

beforeAll(async () => {
  userService = await UserServiceProcess.create({ API_KEY_CACHE_TTL_SECONDS: String(SHORT_TTL_SECONDS) });
  await userService.start();
  [gateway, otherReplica] = await Promise.all([
    startGateway(userService.address),
    startGateway(userService.address),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([gateway?.stop(), otherReplica?.stop()]);
  await userService?.dispose();
}, 60_000);

interface ApiKeyJson {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

const KEY_FORMAT = /^tek_[0-9a-hjkmnp-tv-z]{8}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function signUp(): Promise<Session> {
  const { status, body } = await register(gateway.baseUrl);
  expect(status).toBe(201);
  return body.data!;
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const apiKeyHeader = (key: string) => ({ 'x-api-key': key });

function createKey(
  session: Session,
  json: Record<string, unknown> = { name: 'CI', scopes: ['profile:read'] },
  baseUrl = gateway.baseUrl,
): Promise<ApiResponse<{ api_key: ApiKeyJson; secret: string }>> {
  return call(baseUrl, 'POST', '/api/v1/api-keys', { json, headers: bearer(session.access_token) });
}

async function newKey(session: Session, scopes: string[], name = 'test key') {
  const { status, body } = await createKey(session, { name, scopes });
  expect(status).toBe(201);
  return body.data!;
}

const me = (headers: Record<string, string>, baseUrl = gateway.baseUrl) =>
  call<{ user: Session['user'] }>(baseUrl, 'GET', '/api/v1/users/me', { headers });
/** DELETE answers 204 without a body (the harness's `call` expects JSON). */
async function deleteKey(id: string, headers: Record<string, string>) {
  const response = await fetch(`${gateway.baseUrl}/api/v1/api-keys/${id}`, { method: 'DELETE', headers });
  return { status: response.status, body: await response.text() };
}
const listKeys = (headers: Record<string, string>) =>
  call<{ api_keys: ApiKeyJson[] }>(gateway.baseUrl, 'GET', '/api/v1/api-keys', { headers });

describe('API keys through the gateway', () => {
  test('When a user creates a key, then 201 shows the secret once (no-store) and the key works as Bearer and as X-API-Key', async () => {
    const session = await signUp();

    const created = await createKey(session, {
      name: 'CI deploy',
      scopes: ['profile:read', 'api_keys:read'],
      expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });

    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { api_key: apiKey, secret } = created.body.data!;
    expect(secret).toMatch(KEY_FORMAT);
    expect(apiKey).toEqual({
      id: expect.stringMatching(UUID),
      name: 'CI deploy',
      prefix: secret.slice(0, 12),
      scopes: ['api_keys:read', 'profile:read'],
      created_at: expect.stringMatching(ISO),
      expires_at: expect.stringMatching(ISO),
      last_used_at: null,
    });

    for (const headers of [bearer(secret), apiKeyHeader(secret)]) {
      const { status, body } = await me(headers);
      expect(status).toBe(200);
      expect(body.data!.user).toMatchObject({ id: session.user.id, email: session.user.email });
    }

    const listed = await listKeys(apiKeyHeader(secret));
    expect(listed.status).toBe(200);
    expect(listed.body.data!.api_keys).toEqual([{ ...apiKey, last_used_at: expect.stringMatching(ISO) }]);
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(13));
    expect(gateway.logs.text()).not.toContain(secret.slice(13));
    expect(userService!.service.output()).not.toContain(secret.slice(13));
  });

  test('When a key is revoked, then this gateway refuses it at once and another replica within its cache TTL', async () => {
    const session = await signUp();
    const { api_key: apiKey, secret } = await newKey(session, ['profile:read']);
    expect((await me(apiKeyHeader(secret))).status).toBe(200);
    expect((await me(apiKeyHeader(secret), otherReplica.baseUrl)).status).toBe(200); // now cached there

    const revoked = await deleteKey(apiKey.id, bearer(session.access_token));
    expect(revoked).toEqual({ status: 204, body: '' });

    // The other replica cached the key a moment ago and has not been told: it may serve it until then.
    expect((await me(apiKeyHeader(secret), otherReplica.baseUrl)).status).toBe(200);
    const afterRevoke = await me(apiKeyHeader(secret));
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.error?.code).toBe('UNAUTHENTICATED');
    expect((await listKeys(bearer(session.access_token))).body.data!.api_keys).toEqual([]);

    const revokedAt = Date.now();
    await waitFor(async () => (await me(apiKeyHeader(secret), otherReplica.baseUrl)).status === 401, {
      timeoutMs: (SHORT_TTL_SECONDS + 5) * 1000,
      intervalMs: 250,
      description: 'the other replica to drop the revoked key',
    });
    expect(Date.now() - revokedAt).toBeLessThanOrEqual((SHORT_TTL_SECONDS + 5) * 1000);
  });

  test('When a JWT is sent as X-API-Key, or a key and a JWT arrive together, then the request is refused', async () => {
    const session = await signUp();
    const { secret } = await newKey(session, ['profile:read']);
    expect((await me(bearer(session.access_token))).status).toBe(200);

    const jwtAsKey = await me(apiKeyHeader(session.access_token));
    const both = await me({ ...bearer(session.access_token), ...apiKeyHeader(secret) });
    const forged = await me(apiKeyHeader(`${secret.slice(0, 13)}${'A'.repeat(43)}`));

    for (const response of [jwtAsKey, both, forged]) {
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ success: false, data: null, error: { code: 'UNAUTHENTICATED' } });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  test('When a key is used outside its scopes, then 403 insufficient_scope names the missing scope', async () => {
    const session = await signUp();
    const { secret } = await newKey(session, ['profile:read']);

    const list = await listKeys(apiKeyHeader(secret));
    const create = await createKey(
      { ...session, access_token: secret },
      { name: 'x', scopes: ['profile:read'] },
    );

    expect(list.status).toBe(403);
    expect(list.body.error?.code).toBe('FORBIDDEN');
    expect(list.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", scope="api_keys:read"',
    );
    expect(create.status).toBe(403);
    expect(create.headers.get('www-authenticate')).toContain('scope="api_keys:write"');
    expect((await listKeys(bearer(session.access_token))).body.data!.api_keys).toHaveLength(1);
  });

  test('When a key that may write keys mints another, then it cannot grant a scope it does not hold itself', async () => {
    const session = await signUp();
    const { secret } = await newKey(session, ['api_keys:write', 'profile:read']);

    const broader = await createKey({ ...session, access_token: secret }, { name: 'x', scopes: ['explain'] });
    const narrower = await createKey(
      { ...session, access_token: secret },
      { name: 'y', scopes: ['profile:read'] },
    );
    const admin = await createKey(session, { name: 'z', scopes: ['admin:usage:read'] });

    expect(broader.status).toBe(403);
    expect(broader.body.error?.fields).toEqual([{ field: 'scopes[0]', message: 'is not a scope you hold' }]);
    expect(narrower.status).toBe(201);
    expect(admin.status).toBe(403);
  });

  test('When the body is invalid or sets server-owned fields, then 400 names every offending field and no key is made', async () => {
    const session = await signUp();

    const owned = await createKey(session, {
      name: 'x',
      scopes: ['profile:read'],
      id: '00000000-0000-7000-8000-000000000000',
      user_id: '00000000-0000-7000-8000-000000000001',
      prefix: 'tek_aaaaaaaa',
      secret: 'chosen',
      created_at: '2020-01-01T00:00:00Z',
      last_used_at: '2020-01-01T00:00:00Z',
    });
    const semantic = await createKey(session, {
      name: '',
      scopes: ['profile:read', 'root'],
      expires_at: '2020-01-01T00:00:00Z',
    });
    const types = await createKey(session, { name: 42, scopes: 'profile:read' });
    const badId = await call(gateway.baseUrl, 'DELETE', '/api/v1/api-keys/not-a-uuid', {
      headers: bearer(session.access_token),
    });

    expect(owned.status).toBe(400);
    expect(owned.body.error?.fields?.map((f) => f.field).sort()).toEqual(
      ['created_at', 'id', 'last_used_at', 'prefix', 'secret', 'user_id'].sort(),
    );
    expect(semantic.status).toBe(400);
    expect(semantic.body.error?.fields).toEqual([
      { field: 'name', message: 'is required' },
      { field: 'scopes[1]', message: 'is not a known scope' },
      { field: 'expires_at', message: 'must be in the future' },
    ]);
    expect(types.status).toBe(400);
    expect(types.body.error?.fields?.map((f) => f.field)).toEqual(['name', 'scopes']);
    expect(badId.status).toBe(400);
    expect(badId.body.error?.fields).toEqual([{ field: 'id', message: 'must be a UUID' }]);
    expect((await listKeys(bearer(session.access_token))).body.data!.api_keys).toEqual([]);
  });

  test('When user-service cannot be reached, then a request with an API key is a 503, never a 401', async () => {
    const session = await signUp();
    const { secret } = await newKey(session, ['profile:read']);
    await userService!.stop();

    const response = await listKeys(apiKeyHeader(secret));

    expect(response.status).toBe(503);
    expect(response.body.error?.code).toBe('UNAVAILABLE');
  });
});
