import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// A real user-service process (own database) and the gateway in this process: DELETE /api/v1/users/me.
// (Rows in every table and the user.deleted event are proven in user-service's own component test.)
let userService: UserServiceProcess | undefined;
let gateway: RunningGateway;

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  await userService.start();
  gateway = await startGateway(userService.address);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
}, 60_000);

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

async function signUp(credentials = newCredentials()): Promise<Session> {
  const { status, body } = await register(gateway.baseUrl, credentials);
  expect(status).toBe(201);
  return body.data!;
}

const login = (credentials: { email: string; password: string }) =>
  call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
    json: { email: credentials.email, password: credentials.password },
  });
const me = (headers: Record<string, string>) =>
  call<{ user: Session['user'] }>(gateway.baseUrl, 'GET', '/api/v1/users/me', { headers });

/** DELETE answers 204 without a body (the harness's `call` expects JSON). */
async function deleteMe(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(`${gateway.baseUrl}/api/v1/users/me`, { method: 'DELETE', headers });
  return { status: response.status, body: await response.text() };
}

async function apiKey(session: Session, scopes: string[]): Promise<string> {
  const { status, body } = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
    json: { name: `only ${scopes.join(' ')}`, scopes },
    headers: bearer(session.access_token),
  });
  expect(status).toBe(201);
  return body.data!.secret;
}

describe('DELETE /api/v1/users/me', () => {
  test('When a user deletes their account, then 204 and every access token of every session is refused at once', async () => {
    const credentials = newCredentials('leaving');
    const first = await signUp(credentials);
    const secondLogin = await login(credentials);
    expect(secondLogin.status).toBe(200);
    const second = secondLogin.body.data!;
    expect((await me(bearer(second.access_token))).status).toBe(200);

    expect(await deleteMe(bearer(first.access_token))).toEqual({ status: 204, body: '' });

    // Both tokens are still unexpired, well-signed JWTs: only the revocation can make them fail with 401
    // (without it, the gateway would let them through and user-service would answer 404).
    for (const session of [first, second]) {
      const { status, body } = await me(bearer(session.access_token));
      expect(status).toBe(401);
      expect(body.error?.code).toBe('UNAUTHENTICATED');
    }
  });

  test('When the account is deleted, then signing in fails and the same email can register a new account', async () => {
    const credentials = newCredentials('again');
    const old = await signUp(credentials);
    expect((await deleteMe(bearer(old.access_token))).status).toBe(204);

    const signIn = await login(credentials);
    expect(signIn.status).toBe(401);
    expect(signIn.body.error?.code).toBe('UNAUTHENTICATED');

    const fresh = await signUp(credentials);
    expect(fresh.user.id).not.toBe(old.user.id);
    expect(fresh.user.email).toBe(old.user.email);
    const { status, body } = await me(bearer(fresh.access_token));
    expect(status).toBe(200);
    expect(body.data!.user).toMatchObject({ id: fresh.user.id, name: credentials.name, locale: 'en' });
  });

  test('When the deleted account had an API key in use, then the key is refused at once too', async () => {
    const session = await signUp();
    const key = await apiKey(session, ['profile:read']);
    expect((await me({ 'x-api-key': key })).status).toBe(200); // now in the gateway's cache

    expect((await deleteMe(bearer(session.access_token))).status).toBe(204);

    expect((await me({ 'x-api-key': key })).status).toBe(401);
  });

  test('When an API key (even with profile:write) asks to delete the account, then 403 and the account stays', async () => {
    const session = await signUp();
    const key = await apiKey(session, ['profile:read', 'profile:write']);

    const { status, body } = await deleteMe({ 'x-api-key': key });

    expect(status).toBe(403);
    expect(JSON.parse(body)).toMatchObject({ success: false, error: { code: 'FORBIDDEN' } });
    expect((await me(bearer(session.access_token))).status).toBe(200);
  });

  test('When the request has no credential or lacks profile:write, then 401 or 403 and nothing is deleted', async () => {
    const session = await signUp();
    const readOnly = await apiKey(session, ['profile:read']);

    expect((await deleteMe({})).status).toBe(401);
    const denied = await deleteMe({ 'x-api-key': readOnly });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await me(bearer(session.access_token))).status).toBe(200);
  });
});
