import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// Bad input of every kind against the real chain (Express → zod → gRPC → user-service's domain rules).
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

const REGISTER = '/api/v1/auth/register';
const LOGIN = '/api/v1/auth/login';

/** A raw POST (any content type, any bytes); the answer parsed as the envelope. */
const post = (path: string, rawBody: string, headers: Record<string, string>) =>
  call(gateway.baseUrl, 'POST', path, { rawBody, headers });

const fieldNames = (body: { error: { fields?: { field: string }[] } | null }) =>
  (body.error?.fields ?? []).map((f) => f.field).sort();

describe('shape errors (checked by the gateway)', () => {
  test('When register misses every field, then 400 VALIDATION_FAILED names email, name and password', async () => {
    const { status, headers, body } = await call(gateway.baseUrl, 'POST', REGISTER, { json: {} });

    expect(status).toBe(400);
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'VALIDATION_FAILED' } });
    expect(fieldNames(body)).toEqual(['email', 'name', 'password']);
    expect(body.metadata.request_id).toBe(headers.get('x-request-id'));
  });

  test('When fields have the wrong types, then 400 VALIDATION_FAILED names each of them', async () => {
    const { status, body } = await call(gateway.baseUrl, 'POST', REGISTER, {
      json: { email: 42, password: true, name: { first: 'Ada' } },
    });

    expect(status).toBe(400);
    expect(body.error?.code).toBe('VALIDATION_FAILED');
    expect(fieldNames(body)).toEqual(['email', 'name', 'password']);
  });

  test('When the body has an unknown key, then 400 names it and no account is created', async () => {
    const credentials = newCredentials('extra');

    const { status, body } = await call(gateway.baseUrl, 'POST', REGISTER, {
      json: { ...credentials, roles: ['admin'] },
    });

    expect(status).toBe(400);
    expect(body.error?.code).toBe('VALIDATION_FAILED');
    expect(body.error?.fields).toEqual([{ field: 'roles', message: 'is not allowed' }]);
    expect((await register(gateway.baseUrl, credentials)).status).toBe(201);
  });

  test('When a field holds a lone UTF-16 surrogate, then 400 names it instead of storing U+FFFD', async () => {
    const { status, body } = await post(
      REGISTER,
      '{"email":"\\ud800@example.com","password":"correct horse battery","name":"Ada"}',
      {
        'content-type': 'application/json',
      },
    );

    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'email', message: 'must be valid Unicode text' }],
    });
  });

  test('When login misses the password, then 400 VALIDATION_FAILED names it', async () => {
    const { status, body } = await call(gateway.baseUrl, 'POST', LOGIN, {
      json: { email: 'ada@example.com' },
    });

    expect(status).toBe(400);
    expect(fieldNames(body)).toEqual(['password']);
  });

  test('When the JSON is an array instead of an object, then 400 VALIDATION_FAILED', async () => {
    const { status, body } = await call(gateway.baseUrl, 'POST', REGISTER, { json: [newCredentials()] });

    expect(status).toBe(400);
    expect(body.error?.code).toBe('VALIDATION_FAILED');
  });
});

describe('domain rules (checked by user-service, reported through the gateway)', () => {
  test('When email, password and name are all bad, then ONE 400 lists all three fields', async () => {
    const { status, body } = await call(gateway.baseUrl, 'POST', REGISTER, {
      json: { email: 'not-an-email', password: 'short', name: '   ' },
    });

    expect(status).toBe(400);
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'VALIDATION_FAILED' } });
    expect(body.error?.fields).toEqual(
      expect.arrayContaining([
        { field: 'email', message: expect.any(String) },
        { field: 'password', message: expect.stringContaining('8') },
        { field: 'name', message: expect.any(String) },
      ]),
    );
    expect(fieldNames(body)).toEqual(['email', 'name', 'password']);
  });

  test('When login has empty email and password, then 400 names both (not 401)', async () => {
    const { status, body } = await call(gateway.baseUrl, 'POST', LOGIN, {
      json: { email: ' ', password: '' },
    });

    expect(status).toBe(400);
    expect(fieldNames(body)).toEqual(['email', 'password']);
  });
});

describe('body errors', () => {
  test('When the JSON is malformed, then 400 BAD_REQUEST in the envelope', async () => {
    const { status, body } = await post(REGISTER, '{"email": "a@example.com", ', {
      'content-type': 'application/json',
    });

    expect(status).toBe(400);
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'BAD_REQUEST' } });
  });

  test('When the JSON is a bare string (strict mode), then 400 BAD_REQUEST', async () => {
    const { status, body } = await post(REGISTER, '"ada@example.com"', {
      'content-type': 'application/json',
    });

    expect(status).toBe(400);
    expect(body.error?.code).toBe('BAD_REQUEST');
  });

  test.each([
    ['text/plain', 'text/plain'],
    ['form-encoded', 'application/x-www-form-urlencoded'],
    ['XML', 'application/xml'],
  ])('When the body is %s, then 415 UNSUPPORTED_MEDIA_TYPE', async (_kind, contentType) => {
    const { status, body } = await post(REGISTER, 'email=a%40example.com&password=x&name=y', {
      'content-type': contentType,
    });

    expect(status).toBe(415);
    expect(body).toMatchObject({ success: false, error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  test('When a JSON body declares an unsupported charset or encoding, then 415', async () => {
    const charset = await post(REGISTER, JSON.stringify(newCredentials()), {
      'content-type': 'application/json; charset=ibm-037',
    });
    const encoding = await post(REGISTER, JSON.stringify(newCredentials()), {
      'content-type': 'application/json',
      'content-encoding': 'compress',
    });

    expect([charset.status, charset.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect([encoding.status, encoding.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  test('When the body is over the limit, then 413 PAYLOAD_TOO_LARGE before anything else runs', async () => {
    const credentials = { ...newCredentials('big'), name: 'x'.repeat(150 * 1024) };

    const { status, body } = await call(gateway.baseUrl, 'POST', REGISTER, { json: credentials });

    expect(status).toBe(413);
    expect(body).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((await register(gateway.baseUrl, { ...credentials, name: 'Small' })).status).toBe(201);
  });
});

test('When all sorts of hostile input arrive, then the answer is always an envelope, never a 5xx', async () => {
  const json = { 'content-type': 'application/json' };
  const attempts: [string, string, Record<string, string>][] = [
    ['null', 'null', json],
    ['a number', '42', json],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, json],
    ['a __proto__ key', `{"__proto__":{"admin":true},${JSON.stringify(newCredentials()).slice(1)}`, json],
    [
      'a constructor key',
      JSON.stringify({ ...newCredentials(), constructor: { prototype: { admin: true } } }),
      json,
    ],
    [
      'an email over 320 characters',
      JSON.stringify({ ...newCredentials(), email: `${'a'.repeat(400)}@example.com` }),
      json,
    ],
    [
      'a password over 1024 characters',
      JSON.stringify({ ...newCredentials(), password: 'p'.repeat(2000) }),
      json,
    ],
    [
      'a password over the policy maximum',
      JSON.stringify({ ...newCredentials(), password: 'p'.repeat(200) }),
      json,
    ],
    [
      'control characters in the name',
      JSON.stringify({ ...newCredentials(), name: 'Ada\u0000\u001b[31m' }),
      json,
    ],
    [
      'lone surrogates',
      '{"email":"\\ud800@example.com","password":"\\udfffpassword1","name":"\\ud800"}',
      json,
    ],
    ['an empty body', '', json],
    ['no content type', JSON.stringify(newCredentials()), {}],
  ];

  const outcomes = [];
  for (const [kind, rawBody, headers] of attempts) {
    for (const path of [REGISTER, LOGIN]) {
      const { status, body } = await post(path, rawBody, headers);
      outcomes.push({ kind, path, status, success: body.success, requestId: body.metadata?.request_id });
    }
  }

  expect(outcomes).toHaveLength(attempts.length * 2);
  const failures = outcomes.filter(
    (o) => o.status >= 500 || typeof o.success !== 'boolean' || typeof o.requestId !== 'string',
  );
  expect(failures).toEqual([]);
  // All refused but the lone surrogates: protobuf's UTF-8 encoding turns them into U+FFFD, so that
  // account is created (and logs in) as "\ufffd@example.com". Not well-formed input, silently altered.
  expect(outcomes.filter((o) => o.status >= 400).length).toBeGreaterThanOrEqual(outcomes.length - 2);
});

test('When the session and password endpoints get hostile bodies, then every answer is a 4xx envelope naming what is wrong', async () => {
  const { body: registered } = await register(gateway.baseUrl, newCredentials('hostile-session'));
  const auth = { authorization: `Bearer ${registered.data!.access_token}` };
  const json = { 'content-type': 'application/json' };
  const cases: [path: string, rawBody: string, headers: Record<string, string>][] = [
    ['/api/v1/auth/refresh', '{}', json],
    ['/api/v1/auth/refresh', '{"refresh_token":null}', json],
    ['/api/v1/auth/refresh', `{"refresh_token":"${'r'.repeat(5000)}"}`, json],
    ['/api/v1/auth/refresh', '{"refresh_token":["rt_a"]}', json],
    ['/api/v1/auth/refresh', '{"refresh_token":"rt_x","__proto__":{"admin":true}}', json],
    ['/api/v1/auth/refresh', 'refresh_token=rt_x', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['/api/v1/auth/logout', '[1,2,3]', { ...json, ...auth }],
    ['/api/v1/auth/logout-all', '{"all":false}', { ...json, ...auth }],
    ['/api/v1/users/me/password', '{}', { ...json, ...auth }],
    ['/api/v1/users/me/password', '{"current_password":1,"new_password":2}', { ...json, ...auth }],
    ['/api/v1/users/me/password', '{"current_password":"\\ud800","new_password":"x"}', { ...json, ...auth }],
    [
      '/api/v1/users/me/password',
      `{"current_password":"a","new_password":"${'p'.repeat(2000)}"}`,
      { ...json, ...auth },
    ],
  ];

  for (const [path, rawBody, headers] of cases) {
    const { status, body } = await post(path, rawBody, headers);
    expect({ path, rawBody: rawBody.slice(0, 60), status, success: body.success }).toEqual({
      path,
      rawBody: rawBody.slice(0, 60),
      status: expect.any(Number),
      success: false,
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    if (status === 400) expect(body.error?.fields?.length).toBeGreaterThan(0);
  }
  // None of it ended the session.
  expect((await call(gateway.baseUrl, 'GET', '/api/v1/users/me', { headers: auth })).status).toBe(200);
});
