import {
  call,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// A real user-service process (own database) and the gateway in this process: GET/PATCH /api/v1/users/me.
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

interface UserJson {
  id: string;
  email: string;
  name: string;
  roles: string[];
  locale: string;
  preferences: Record<string, unknown>;
  created_at: string;
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

async function signUp(): Promise<Session> {
  const { status, body } = await register(gateway.baseUrl);
  expect(status).toBe(201);
  return body.data!;
}

const me = (headers: Record<string, string>) =>
  call<{ user: UserJson }>(gateway.baseUrl, 'GET', '/api/v1/users/me', { headers });
const patchMe = (headers: Record<string, string>, json: unknown) =>
  call<{ user: UserJson }>(gateway.baseUrl, 'PATCH', '/api/v1/users/me', { headers, json });

async function apiKey(session: Session, scopes: string[]): Promise<string> {
  const { status, body } = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
    json: { name: `only ${scopes.join(' ')}`, scopes },
    headers: bearer(session.access_token),
  });
  expect(status).toBe(201);
  return body.data!.secret;
}

describe('GET /api/v1/users/me', () => {
  test('When a signed-in user reads their profile, then 200 returns their account with locale and preferences', async () => {
    const session = await signUp();

    const { status, body } = await me(bearer(session.access_token));

    expect(status).toBe(200);
    expect(body.data!.user).toEqual({
      ...session.user,
      locale: 'en',
      preferences: {},
    });
  });

  test('When no credential is sent, then 401 in the envelope', async () => {
    const { status, body } = await me({});
    expect(status).toBe(401);
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'UNAUTHENTICATED' } });
  });
});

describe('PATCH /api/v1/users/me', () => {
  test('When name, locale and preferences are sent, then 200 returns the updated user and GET agrees', async () => {
    const session = await signUp();
    const preferences = { theme: 'dark', editor: { font_size: 14 }, pinned: ['a', 'b'] };

    const { status, body } = await patchMe(bearer(session.access_token), {
      name: '  Ada Byron ',
      locale: 'pt-br',
      preferences,
    });

    expect(status).toBe(200);
    const expected = { ...session.user, name: 'Ada Byron', locale: 'pt-BR', preferences };
    expect(body.data!.user).toEqual(expected);
    expect((await me(bearer(session.access_token))).body.data!.user).toEqual(expected);
  });

  test('When only one member is sent, then the others keep their values', async () => {
    const session = await signUp();
    await patchMe(bearer(session.access_token), { locale: 'de', preferences: { theme: 'dark' } });

    const { status, body } = await patchMe(bearer(session.access_token), { name: 'Only The Name' });

    expect(status).toBe(200);
    expect(body.data!.user).toMatchObject({
      name: 'Only The Name',
      locale: 'de',
      preferences: { theme: 'dark' },
    });
  });

  test('When the body sets server-owned fields or unknown keys, then 400 names each and nothing changes', async () => {
    const session = await signUp();

    const { status, body } = await patchMe(bearer(session.access_token), {
      name: 'Mallory',
      email: 'mallory@example.com',
      roles: ['admin'],
      id: '00000000-0000-4000-8000-000000000000',
      created_at: '2000-01-01T00:00:00.000Z',
      password: 'x',
      is_admin: true,
    });

    expect(status).toBe(400);
    expect(body.error?.code).toBe('VALIDATION_FAILED');
    expect(body.error?.fields?.map((f) => f.field).sort()).toEqual(
      ['created_at', 'email', 'id', 'is_admin', 'password', 'roles'].sort(),
    );
    expect((await me(bearer(session.access_token))).body.data!.user).toEqual({
      ...session.user,
      locale: 'en',
      preferences: {},
    });
  });

  test('When members have the wrong type, then 400 names each (checked at the gateway)', async () => {
    const session = await signUp();

    const { status, body } = await patchMe(bearer(session.access_token), {
      name: 42,
      locale: null,
      preferences: ['not', 'an', 'object'],
    });

    expect(status).toBe(400);
    expect(body.error?.fields?.map((f) => f.field)).toEqual(['name', 'locale', 'preferences']);
  });

  test('When values break the profile rules, then 400 names each field (checked by user-service)', async () => {
    const session = await signUp();

    const { status, body } = await patchMe(bearer(session.access_token), {
      name: ' \u0007 ',
      locale: 'en_US',
      preferences: { blob: 'x'.repeat(17 * 1024) },
    });

    expect(status).toBe(400);
    expect(body.error?.code).toBe('VALIDATION_FAILED');
    expect(body.error?.fields?.map((f) => f.field)).toEqual(['name', 'locale', 'preferences']);
    const deep = await patchMe(bearer(session.access_token), {
      preferences: { a: { b: { c: { d: { e: 1 } } } } },
    });
    expect(deep.status).toBe(400);
    expect(deep.body.error?.fields).toEqual([
      { field: 'preferences', message: 'must nest at most 4 levels deep' },
    ]);
  });

  test('When the body is not JSON or not an object, then 415 or 400, never a 5xx', async () => {
    const session = await signUp();
    const headers = bearer(session.access_token);

    const text = await call(gateway.baseUrl, 'PATCH', '/api/v1/users/me', {
      headers: { ...headers, 'content-type': 'text/plain' },
      rawBody: 'name=Eve',
    });
    expect(text.status).toBe(415);
    const array = await patchMe(headers, [{ name: 'Eve' }]);
    expect(array.status).toBe(400);
  });

  test('When the credential may only read the profile, then PATCH is 403 insufficient_scope and GET still works', async () => {
    const session = await signUp();
    const readOnly = await apiKey(session, ['profile:read']);

    const denied = await patchMe({ 'x-api-key': readOnly }, { name: 'Not Allowed' });

    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect((await me({ 'x-api-key': readOnly })).body.data!.user.name).toBe(session.user.name);
  });
});
