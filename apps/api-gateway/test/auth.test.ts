import { createPublicKey, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import {
  decodeToken,
  ecKey,
  makeToken,
  nowSeconds,
  rsaKey,
  withPayload,
  type TestKey,
} from './support/tokens.js';
import { JWT_AUDIENCE, JWT_ISSUER, UserServiceProcess } from './support/user-service.process.js';

// Real user-service process (own database) + the gateway in this process; tokens really signed and verified.
let userService: UserServiceProcess | undefined;
let gateway: RunningGateway;
/** The key user-service signs with, read (and decrypted) from its key ring. */
let ringKey: TestKey;
const settings = { issuer: JWT_ISSUER, audience: JWT_AUDIENCE };

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  await userService.start();
  gateway = await startGateway(userService.address);
  ringKey = await userService.signingKey();
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
}, 60_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function publishedKeys(): Promise<Record<string, string>[]> {
  const response = await fetch(`${gateway.baseUrl}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { keys: Record<string, string>[] }).keys;
}

const me = (authorization?: string) =>
  call<{ user: Session['user'] }>(gateway.baseUrl, 'GET', '/api/v1/users/me', {
    headers: authorization === undefined ? {} : { authorization },
  });

describe('register', () => {
  test('When a user registers, then 201 returns the normalised user and an ES256 access token verifiable with the published JWKS', async () => {
    const credentials = newCredentials('Register');
    const mixedCaseEmail = `  ${credentials.email.toUpperCase()} `;

    const { status, headers, body } = await register(gateway.baseUrl, {
      ...credentials,
      email: mixedCaseEmail,
    });

    expect(status).toBe(201);
    expect(body).toMatchObject({ success: true, error: null });
    expect(body.metadata).toEqual({
      timestamp: expect.stringMatching(ISO_TIMESTAMP),
      request_id: expect.any(String),
    });
    expect(headers.get('x-request-id')).toBe(body.metadata.request_id);
    const session = body.data!;
    expect(session.user).toEqual({
      id: expect.stringMatching(UUID),
      email: credentials.email.toLowerCase(),
      name: credentials.name,
      roles: ['user'],
      locale: 'en',
      preferences: {},
      created_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect(session.token_type).toBe('Bearer');
    expect(session.expires_in).toBe(900);
    expect(session.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(session.refresh_token_expires_in).toBe(14 * 24 * 3600);
    expect(session.session_id).toMatch(UUID);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('pragma')).toBe('no-cache');

    const { header, claims } = decodeToken(session.access_token);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: ringKey.kid });
    const jwk = (await publishedKeys()).find((key) => key['kid'] === header['kid']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    const verified = jwt.verify(
      session.access_token,
      createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }),
      {
        algorithms: ['ES256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      },
    ) as jwt.JwtPayload;
    expect(verified).toEqual({
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      sub: session.user.id,
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(UUID),
      sid: session.session_id,
      roles: ['user'],
      scope: expect.any(String),
    });
    expect(verified.exp! - verified.iat!).toBe(session.expires_in);
    expect(Math.abs(verified.iat! - nowSeconds())).toBeLessThan(120);
    expect(claims['scope']).toMatch(/\S/);
  });

  test('When the caller sends a safe X-Request-Id, then the response, the access log and user-service log it', async () => {
    const requestId = `gw-test-${Date.now()}`;

    const { status, headers, body } = await register(gateway.baseUrl, newCredentials('rid'), {
      'X-Request-Id': requestId,
    });

    expect(status).toBe(201);
    expect(headers.get('x-request-id')).toBe(requestId);
    expect(body.metadata.request_id).toBe(requestId);
    expect(gateway.logs.lines()).toContainEqual(
      expect.objectContaining({ message: 'request', request_id: requestId, method: 'POST', status: 201 }),
    );
    // user-service logs each handled call with the request id the gateway propagated over gRPC.
    expect(userService!.logLines()).toContainEqual(
      expect.objectContaining({
        service: 'user-service',
        message: 'gRPC call handled',
        grpc_method: 'Register',
        request_id: requestId,
      }),
    );
  });

  test('When the caller sends an unsafe X-Request-Id, then a fresh id is used instead and never logged', async () => {
    const unsafe = 'evil id <script>';

    const { headers, body } = await register(gateway.baseUrl, newCredentials('unsafe'), {
      'X-Request-Id': unsafe,
    });

    expect(headers.get('x-request-id')).toMatch(UUID);
    expect(body.metadata.request_id).toBe(headers.get('x-request-id'));
    expect(gateway.logs.text()).not.toContain('<script>');
    expect(userService!.service.output()).not.toContain('<script>');
  });

  test('When the same email registers again in another case, then 409 CONFLICT names the email field', async () => {
    const first = await register(gateway.baseUrl, newCredentials('dup'));
    expect(first.status).toBe(201);

    const { status, body } = await register(gateway.baseUrl, {
      ...newCredentials('dup'),
      email: first.credentials.email.toUpperCase(),
    });

    expect(status).toBe(409);
    expect(body).toMatchObject({
      success: false,
      data: null,
      error: { code: 'CONFLICT', fields: [{ field: 'email', message: expect.any(String) }] },
    });
  });
});

describe('login', () => {
  test('When a registered user logs in (any email case), then 200 returns a token that opens /users/me', async () => {
    const { credentials, body: registered } = await register(gateway.baseUrl, newCredentials('login'));

    const { status, headers, body } = await call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
      json: { email: credentials.email.toUpperCase(), password: credentials.password },
    });

    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.data).toMatchObject({ user: registered.data!.user, token_type: 'Bearer', expires_in: 900 });
    expect(body.data!.access_token).not.toBe(registered.data!.access_token);
    // Every sign-in opens its own session.
    expect(body.data!.session_id).not.toBe(registered.data!.session_id);
    expect(body.data!.refresh_token).not.toBe(registered.data!.refresh_token);
    const profile = await me(`Bearer ${body.data!.access_token}`);
    expect(profile.status).toBe(200);
  });

  test('When the password is wrong or the email unknown, then both get the same 401 with WWW-Authenticate: Bearer', async () => {
    const { credentials } = await register(gateway.baseUrl, newCredentials('wrongpw'));

    const wrongPassword = await call(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
      json: { email: credentials.email, password: `${credentials.password}x` },
    });
    const unknownEmail = await call(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
      json: { email: newCredentials('nobody').email, password: credentials.password },
    });

    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body).toMatchObject({ success: false, data: null, error: { code: 'UNAUTHENTICATED' } });
    }
    const { metadata: _a, ...first } = wrongPassword.body;
    const { metadata: _b, ...second } = unknownEmail.body;
    expect(first).toEqual(second);
  });
});

describe('GET /api/v1/users/me', () => {
  test('When called with the access token from registration, then 200 returns that user', async () => {
    const { body: registered } = await register(gateway.baseUrl, newCredentials('me'));

    const { status, body } = await me(`Bearer ${registered.data!.access_token}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ success: true, error: null, data: { user: registered.data!.user } });
  });

  test('When a token is minted with user-service’s ring key for a registered user, then it is accepted (control for the cases below)', async () => {
    const { body: registered } = await register(gateway.baseUrl, newCredentials('control'));

    const { status, body } = await me(
      `Bearer ${makeToken(ringKey, settings, { claims: { sub: registered.data!.user.id } })}`,
    );

    expect(status).toBe(200);
    expect(body.data!.user.id).toBe(registered.data!.user.id);
  });

  const unauthenticatedCases: [string, (session: Session) => string | undefined][] = [
    ['no Authorization header', () => undefined],
    ['a Basic Authorization header', () => `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['"Bearer" without a token', () => 'Bearer'],
    ['a bearer value that is not a JWT', () => 'Bearer not.a.jwt'],
    ['the token without the Bearer scheme', (session) => session.access_token],
    [
      'a token signed by another key with a kid the gateway does not know',
      (session) =>
        `Bearer ${makeToken(ecKey('not-a-published-kid'), settings, { claims: { sub: session.user.id } })}`,
    ],
    [
      'a token whose payload was changed to another user and admin role',
      (session) => {
        const { claims } = decodeToken(session.access_token);
        return `Bearer ${withPayload(session.access_token, { ...claims, roles: ['admin'], sub: '01a210af-0000-7000-8000-000000000000' })}`;
      },
    ],
    [
      'a token signed by user-service’s key that expired beyond the clock tolerance',
      (session) => {
        const now = nowSeconds();
        return `Bearer ${makeToken(ringKey, settings, { claims: { sub: session.user.id, iat: now - 3600, exp: now - 120 } })}`;
      },
    ],
    [
      'a token signed by user-service’s key for another audience',
      (session) =>
        `Bearer ${makeToken(ringKey, { ...settings, audience: 'another-api' }, { claims: { sub: session.user.id } })}`,
    ],
    [
      'a token signed by user-service’s key from another issuer',
      (session) =>
        `Bearer ${makeToken(ringKey, { ...settings, issuer: 'https://attacker.example' }, { claims: { sub: session.user.id } })}`,
    ],
    [
      'alg none with the ring’s kid and no signature',
      (session) =>
        `Bearer ${makeToken(ringKey, settings, { header: { alg: 'none' }, signWith: 'none', claims: { sub: session.user.id } })}`,
    ],
    [
      'HS256 keyed with the ring’s public key (key confusion)',
      (session) => {
        const pem = ringKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
        return `Bearer ${makeToken(ringKey, settings, { header: { alg: 'HS256' }, signWith: { hs256Secret: pem }, claims: { sub: session.user.id } })}`;
      },
    ],
    [
      'HS256 keyed with the published JWK’s coordinates',
      (session) =>
        `Bearer ${makeToken(ringKey, settings, { header: { alg: 'HS256' }, signWith: { hs256Secret: JSON.stringify(ringKey.jwk) }, claims: { sub: session.user.id } })}`,
    ],
    [
      'RS256 by an attacker’s key claiming the ring’s kid',
      (session) =>
        `Bearer ${makeToken({ ...rsaKey(), kid: ringKey.kid }, settings, { claims: { sub: session.user.id } })}`,
    ],
    [
      'a jku header pointing at an attacker’s JWKS (signed with the attacker’s key)',
      (session) =>
        `Bearer ${makeToken(ecKey(), settings, { header: { jku: 'https://attacker.example/jwks.json' }, claims: { sub: session.user.id } })}`,
    ],
    [
      'an x5u header even on a token the ring’s key signed',
      (session) =>
        `Bearer ${makeToken(ringKey, settings, { header: { x5u: 'https://attacker.example/cert.pem' }, claims: { sub: session.user.id } })}`,
    ],
    [
      'an embedded jwk of the attacker’s key',
      (session) => {
        const attacker = ecKey(ringKey.kid);
        return `Bearer ${makeToken(attacker, settings, { header: { jwk: attacker.jwk }, claims: { sub: session.user.id } })}`;
      },
    ],
    [
      'typ JWT (an ID token or other JWT, not an access token)',
      (session) =>
        `Bearer ${makeToken(ringKey, settings, { header: { typ: 'JWT' }, claims: { sub: session.user.id } })}`,
    ],
    [
      'a token of the ring’s key without a session id',
      (session) =>
        `Bearer ${makeToken(ringKey, settings, { claims: { sub: session.user.id, sid: undefined } })}`,
    ],
    [
      'a real access token with one signature byte changed',
      (session) => {
        const [header, payload, signature] = session.access_token.split('.');
        const bytes = Buffer.from(signature, 'base64url');
        bytes[10] ^= 0x01;
        return `Bearer ${header}.${payload}.${bytes.toString('base64url')}`;
      },
    ],
  ];

  test.each(unauthenticatedCases)(
    'When the request has %s, then 401 UNAUTHENTICATED in the envelope',
    async (_case, header) => {
      const { body: registered } = await register(gateway.baseUrl, newCredentials('unauth'));

      const { status, headers, body } = await me(header(registered.data!));

      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toBe('Bearer');
      expect(body).toMatchObject({
        success: false,
        data: null,
        error: { code: 'UNAUTHENTICATED', message: 'A valid access token or API key is required' },
        metadata: { request_id: headers.get('x-request-id') },
      });
    },
  );
});

test('When users register, log in, refresh and call the API, then neither passwords nor tokens appear in any log', async () => {
  const credentials = newCredentials('secret');
  const { body: registered } = await register(gateway.baseUrl, credentials);
  const login = await call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
    json: { email: credentials.email, password: credentials.password },
  });
  await call(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
    json: { email: credentials.email, password: `${credentials.password}-wrong` },
  });
  await me(`Bearer ${login.body.data!.access_token}`);
  const refreshed = await call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/refresh', {
    json: { refresh_token: login.body.data!.refresh_token },
  });
  expect(refreshed.status).toBe(200);

  const tokens = [
    registered.data!.access_token,
    login.body.data!.access_token,
    refreshed.body.data!.access_token,
  ];
  const refreshTokens = [
    registered.data!.refresh_token,
    login.body.data!.refresh_token,
    refreshed.body.data!.refresh_token,
  ];
  const gatewayLog = gateway.logs.text();
  const userServiceLog = userService!.service.output();
  // The logs did record these calls (the assertions below are not vacuous).
  expect(gateway.logs.lines()).toContainEqual(
    expect.objectContaining({ message: 'request', status: 200, user_id: registered.data!.user.id }),
  );
  expect(userService!.logLines()).toContainEqual(
    expect.objectContaining({
      message: 'gRPC call rejected',
      grpc_method: 'Login',
      error_code: 'UNAUTHENTICATED',
    }),
  );
  for (const log of [gatewayLog, userServiceLog]) {
    expect(log).not.toContain(credentials.password);
    for (const token of tokens) {
      expect(log).not.toContain(token);
      expect(log).not.toContain(token.split('.')[2]); // not even the signature
    }
    for (const refreshToken of refreshTokens) expect(log).not.toContain(refreshToken.slice(3));
  }
});
