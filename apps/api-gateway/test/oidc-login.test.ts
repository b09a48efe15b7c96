import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  createServiceTestEnv,
  freePort,
  spawnService,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';
import {
  call,
  startGateway,
  type Envelope,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { JWT_AUDIENCE, JWT_ISSUER, USER_SERVICE_ENTRY } from './support/user-service.process.js';

// End to end: a browser (fetch, manual redirects, a cookie jar) → the gateway in this process → the
// built user-service process (own database) → a real OpenID Provider (oidc-provider) on loopback.
const WORKSPACE = path.resolve(__dirname, '../../..');
const USER_SERVICE_SCHEMA = path.join(WORKSPACE, 'apps/user-service/prisma/schema.prisma');
const OPENID_PROVIDER_SCRIPT = path.join(WORKSPACE, 'apps/user-service/test/support/openid-provider.mjs');
const CLIENT = { client_id: 'te-explico', client_secret: `secret-${randomUUID()}` };

let env: ServiceTestEnv;
let provider: ChildProcess;
let issuer: string;
let userService: SpawnedService;
let gateway: RunningGateway;
let base: string;
const callbackPath = (id: string) => `/api/v1/auth/oidc/${id}/callback`;

beforeAll(async () => {
  // The provider must know the callback URL, so the gateway's port is chosen first.
  const gatewayPort = await freePort();
  base = `http://127.0.0.1:${gatewayPort}`;
  ({ child: provider, issuer } = await startProvider({
    clients: [{ ...CLIENT, redirect_uris: [`${base}${callbackPath('corp')}`] }],
    idTokenClaims: true,
  }));
  env = await createServiceTestEnv({
    schemaPath: USER_SERVICE_SCHEMA,
    databaseName: 'te_user',
    queues: ['user-service.usage'],
  });
  const [grpcPort, httpPort] = await distinctFreePorts();
  userService = await spawnService({
    name: 'user-service',
    entry: USER_SERVICE_ENTRY,
    readyPort: httpPort,
    readyTimeoutMs: 60_000,
    env: {
      ...userServiceEnv(),
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      OIDC_PROVIDERS: 'corp',
      OIDC_CORP_ISSUER: issuer,
      OIDC_CORP_CLIENT_ID: CLIENT.client_id,
      OIDC_CORP_CLIENT_SECRET: CLIENT.client_secret,
      OIDC_REDIRECT_BASE_URL: base,
    },
  });
  gateway = await startGateway(`127.0.0.1:${grpcPort}`, { HTTP_PORT: String(gatewayPort) });
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.stop();
  await env?.cleanup();
  provider?.kill('SIGTERM');
}, 60_000);

function userServiceEnv(): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ...env.env,
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    JWT_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    JWT_ISSUER,
    JWT_AUDIENCE,
    DATABASE_POOL_SIZE: '4',
  };
}

async function distinctFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  let second = await freePort();
  while (second === first) second = await freePort();
  return [first, second];
}

async function startProvider(config: object): Promise<{ child: ChildProcess; issuer: string }> {
  const child = spawn(process.execPath, [OPENID_PROVIDER_SCRIPT], {
    env: { PATH: process.env['PATH'] ?? '', OP_FIXTURE_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) =>
      resolve((JSON.parse(chunk.toString()) as { issuer: string }).issuer),
    );
    child.once('exit', (code) => reject(new Error(`openid-provider exited with ${code}`)));
  });
  return { child, issuer };
}

async function providerAccount(claims: Record<string, unknown> = {}) {
  const subject = `sub-${randomUUID()}`;
  const account = {
    email: `e2e.${randomUUID().slice(0, 8)}@example.com`,
    email_verified: true,
    name: 'Katherine Johnson',
    ...claims,
  };
  const response = await fetch(`${issuer}/test/accounts/${subject}`, {
    method: 'PUT',
    body: JSON.stringify(account),
  });
  expect(response.status).toBe(204);
  return { subject, ...account };
}

/** A minimal browser: one cookie jar (host-wide, Path respected, deletions honoured), manual redirects. */
class Browser {
  private readonly jar = new Map<string, { value: string; path: string }>();
  /** Every Set-Cookie the gateway sent, for assertions on attributes. */
  readonly gatewayCookies: string[] = [];

  async request(url: string, form?: Record<string, string>): Promise<Response> {
    const target = new URL(url);
    const cookie = [...this.jar]
      .filter(([, entry]) => target.pathname.startsWith(entry.path))
      .map(([name, entry]) => `${name}=${entry.value}`)
      .join('; ');
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const header of response.headers.getSetCookie()) {
      if (url.startsWith(base)) this.gatewayCookies.push(header);
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const pathAttribute = attributes.find((a) => a.toLowerCase().startsWith('path='));
      const expired = attributes.some((a) => /^expires=.*1970/i.test(a) || /^max-age=0$/i.test(a));
      if (expired) this.jar.delete(name);
      else this.jar.set(name, { value: pair.slice(at + 1), path: pathAttribute?.slice(5) ?? '/' });
    }
    return response;
  }

  /** From the gateway's /start, through the provider's login and consent, up to (not into) the callback. */
  async toCallback(providerId: string, subject: string, options: { abort?: boolean } = {}) {
    const start = await this.request(`${base}/api/v1/auth/oidc/${providerId}/start`);
    expect(start.status).toBe(302);
    let url = new URL(start.headers.get('location')!).href;
    for (let step = 0; step < 10 && !url.startsWith(`${base}${callbackPath(providerId)}`); step++) {
      const interaction = /\/interaction\/[^/?]+$/.test(new URL(url).pathname);
      let response: Response;
      if (!interaction) response = await this.request(url);
      else if (options.abort) response = await this.request(`${url}/abort`);
      else {
        const page = await (await this.request(url)).text();
        const login = page.includes('name="prompt" value="login"');
        response = await this.request(
          url,
          login ? { prompt: 'login', login: subject, password: 'x' } : { prompt: 'consent' },
        );
      }
      await response.arrayBuffer();
      url = new URL(response.headers.get('location')!, url).href;
    }
    return { start, callbackUrl: url };
  }

  async json<T>(url: string): Promise<{ status: number; headers: Headers; body: Envelope<T> }> {
    const response = await this.request(url);
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Envelope<T>,
    };
  }
}

type OidcSession = Session & { refresh_token: string; refresh_token_expires_in: number; session_id: string };

describe('OIDC sign-in through the gateway', () => {
  test('When a new user goes start → provider → callback, then the gateway answers 200 with a session like login, not cacheable, whose access token works at /users/me', async () => {
    const account = await providerAccount();
    const browser = new Browser();

    const { start, callbackUrl } = await browser.toCallback('corp', account.subject);
    const authorization = new URL(start.headers.get('location')!);
    expect(authorization.origin).toBe(issuer);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('redirect_uri')).toBe(`${base}${callbackPath('corp')}`);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const { status, headers, body } = await browser.json<OidcSession>(callbackUrl);

    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ success: true, error: null });
    const session = body.data!;
    expect(session).toEqual({
      user: expect.objectContaining({ email: account.email, name: 'Katherine Johnson', roles: ['user'] }),
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
      refresh_token_expires_in: expect.any(Number),
      session_id: expect.any(String),
    });
    const me = await call<{ user: Session['user'] }>(base, 'GET', '/api/v1/users/me', {
      headers: { authorization: `Bearer ${session.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(me.body.data!.user).toMatchObject({ id: session.user.id, email: account.email });
  });

  test('When a sign-in starts, then the browser binding cookie is HttpOnly, SameSite=Lax, scoped to the callback and short-lived, and the callback clears it', async () => {
    const account = await providerAccount();
    const browser = new Browser();

    const { callbackUrl } = await browser.toCallback('corp', account.subject);
    const [set] = browser.gatewayCookies;
    await browser.json(callbackUrl);

    expect(set).toMatch(/^te_oidc_binding=[A-Za-z0-9_-]{43};/);
    expect(set).toContain('Path=/api/v1/auth/oidc/corp/callback');
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Lax');
    expect(set).toContain('Max-Age=600');
    expect(browser.gatewayCookies[1]).toMatch(/^te_oidc_binding=;.*Expires=Thu, 01 Jan 1970/);
  });

  test('When the callback URL is opened by another browser (no binding cookie), then 401 in the envelope and the attempt is spent', async () => {
    const account = await providerAccount();
    const victim = new Browser();
    const { callbackUrl } = await victim.toCallback('corp', account.subject);

    const stolen = await new Browser().json(callbackUrl);
    const original = await victim.json(callbackUrl);

    expect(stolen.status).toBe(401);
    expect(stolen.body).toMatchObject({ success: false, data: null, error: { code: 'UNAUTHENTICATED' } });
    expect(original.status).toBe(401);
  });

  test('When a callback is replayed or its state is wrong, then 401 in the envelope, never a 5xx', async () => {
    const account = await providerAccount();
    const browser = new Browser();
    const { callbackUrl } = await browser.toCallback('corp', account.subject);
    const binding = browser.gatewayCookies[0].split(';')[0];
    expect((await browser.json(callbackUrl)).status).toBe(200);

    const replay = await call(base, 'GET', new URL(callbackUrl).pathname + new URL(callbackUrl).search, {
      headers: { cookie: binding },
    });
    const wrongState = await call(base, 'GET', `${callbackPath('corp')}?code=abc&state=${'s'.repeat(43)}`, {
      headers: { cookie: binding },
    });
    const noParameters = await call(base, 'GET', callbackPath('corp'));

    for (const response of [replay, wrongState, noParameters]) {
      expect(response.status).toBe(401);
      expect(response.body.error).toEqual({
        code: 'UNAUTHENTICATED',
        message: 'The sign-in attempt is invalid or has expired; start again',
      });
    }
  });

  test('When the user cancels at the provider, then the callback is a 401 envelope with our message', async () => {
    const account = await providerAccount();
    const browser = new Browser();
    const { callbackUrl } = await browser.toCallback('corp', account.subject, { abort: true });
    expect(new URL(callbackUrl).searchParams.get('error')).toBe('access_denied');

    const { status, body } = await browser.json(callbackUrl);

    expect(status).toBe(401);
    expect(body.error).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'The provider did not complete the sign-in',
    });
    expect(JSON.stringify(body)).not.toContain('End-User aborted');
  });

  test('When the provider list is asked for, then the configured providers come in the envelope', async () => {
    const { status, body } = await call(base, 'GET', '/api/v1/auth/oidc/providers');

    expect(status).toBe(200);
    expect(body.data).toEqual({ providers: [{ id: 'corp' }] });
  });

  test('When the provider is unknown, then 404 in the envelope; when it is not a provider id, then 400 naming the field', async () => {
    const unknown = await call(base, 'GET', '/api/v1/auth/oidc/nope/start');
    const unknownCallback = await call(base, 'GET', `${callbackPath('nope')}?code=a&state=b`);
    const malformed = await call(base, 'GET', '/api/v1/auth/oidc/Not_A%20Provider/start');

    expect([unknown.status, unknownCallback.status]).toEqual([404, 404]);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'Unknown sign-in provider' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'provider' }],
    });
  });

  test('When the callback query is absurdly long, then 400 naming the query', async () => {
    const { status, body } = await call(
      base,
      'GET',
      `${callbackPath('corp')}?code=${'c'.repeat(5000)}&state=x`,
    );

    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'query' }] });
  });
});

describe('OIDC configuration at start-up', () => {
  test('When provider variables are missing or bad, then user-service does not start and its error lists each of them', async () => {
    const [grpcPort, httpPort] = await distinctFreePorts();
    const child = spawn(process.execPath, [path.join(WORKSPACE, USER_SERVICE_ENTRY)], {
      cwd: WORKSPACE,
      env: {
        PATH: process.env['PATH'] ?? '',
        ...userServiceEnv(),
        GRPC_PORT: String(grpcPort),
        HTTP_PORT: String(httpPort),
        OIDC_PROVIDERS: 'corp,partner',
        OIDC_CORP_ISSUER: 'http://idp.example.com',
        OIDC_CORP_CLIENT_ID: 'te',
        OIDC_CORP_CLIENT_SECRET: 'corp-client-secret',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A service that accepted the config would keep running: stop it so the assertion below fails fast.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(guard);

    expect(exitCode).toBe(1);
    const failed = output;
    for (const variable of [
      'OIDC_CORP_ISSUER',
      'OIDC_PARTNER_ISSUER',
      'OIDC_PARTNER_CLIENT_ID',
      'OIDC_PARTNER_CLIENT_SECRET',
    ]) {
      expect(failed).toContain(variable);
    }
    expect(failed).not.toContain('corp-client-secret');
  });
});
