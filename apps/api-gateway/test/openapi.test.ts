import type { AddressInfo } from 'node:net';
import http from 'node:http';
import type { Express, RequestHandler } from 'express';
import { captureLogger, createMetrics, Health, type Scope } from '@te/platform';
import { z } from 'zod';
import type { ApiKeyCache } from '../src/auth/api-key.cache.js';
import type { RequireAuth } from '../src/auth/require-auth.middleware.js';
import { createHttpApp, type HttpAppDeps } from '../src/http/http-server.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../src/openapi/document.js';

/*
 * The OpenAPI document (decision 0025-openapi): a structurally valid OpenAPI 3.1 document, one
 * operation for every route the app registers and none for a route it does not, the scopes each route
 * enforces, and request schemas that refuse what the validators refuse.
 */

// ---------------------------------------------------------------------------------------------------
// The app, with a requireAuth that admits everyone and records what each route asked for. Services
// are absent: only requests the validators refuse are sent (they never reach a service).

const SCOPES_OF = Symbol('scopes');
type Tagged = RequestHandler & { [SCOPES_OF]?: Scope[] };
const recordingRequireAuth: RequireAuth = (...scopes) => {
  const handler: Tagged = (_req, _res, next) => next();
  handler[SCOPES_OF] = scopes;
  return handler;
};

const app = createHttpApp({
  logger: captureLogger('api-gateway').logger,
  metrics: createMetrics({ service: 'openapi', defaultMetrics: false }),
  health: new Health(),
  users: {} as HttpAppDeps['users'],
  contexts: {} as HttpAppDeps['contexts'],
  ai: {} as HttpAppDeps['ai'],
  integrations: {} as HttpAppDeps['integrations'],
  inboundWebhookMaxBytes: 1024,
  requireAuth: recordingRequireAuth,
  apiKeyCache: {} as ApiKeyCache,
  revocations: {} as HttpAppDeps['revocations'],
  corsOrigins: [],
  jsonBodyLimit: '100kb',
  attachments: { maxBytes: 1024, uploadDeadlineMs: 1000 },
  trustProxy: 'loopback',
});
const { document, problems } = buildOpenApiDocument(app);

// ---------------------------------------------------------------------------------------------------
// An inventory of the app's routes written independently of src/openapi (as access-control.test.ts).

interface LayerLike {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean>; stack: LayerLike[] };
  handle: Tagged & { stack?: LayerLike[] };
}

function inventory(express: Express): Map<string, Scope[] | undefined> {
  const routes = new Map<string, Scope[] | undefined>();
  const walk = (stack: LayerLike[], base: string, inherited: Scope[] | undefined) => {
    let scopes = inherited;
    for (const layer of stack) {
      if (layer.route) {
        const declared = layer.route.stack.map((l) => l.handle[SCOPES_OF]).find(Boolean) ?? scopes;
        const path = `${base}${layer.route.path}`.replace(/(.)\/$/, '$1');
        for (const method of Object.keys(layer.route.methods))
          routes.set(`${method.toUpperCase()} ${path}`, declared);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, `${base}${typeof layer.rawPath === 'string' ? layer.rawPath : ''}`, scopes);
      } else if (layer.handle[SCOPES_OF]) {
        scopes = layer.handle[SCOPES_OF];
      }
    }
  };
  walk((express as unknown as { router: { stack: LayerLike[] } }).router.stack, '', undefined);
  return routes;
}

/** The API's routes: everything but the reference page and its files. */
const ROUTES = new Map([...inventory(app)].filter(([key]) => !key.split(' ')[1].startsWith('/docs')));

type Operation = OpenApiDocument['paths'][string][string] & {
  security: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
};

const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    key: `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`,
    op: op as Operation,
  })),
);
const operationOf = (key: string) => operations.find((o) => o.key === key)!.op;

/** Every `$ref` in the document, with where it was found. */
function refsIn(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => refsIn(item, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [{ ref: child, at }] : refsIn(child, `${at}/${key}`),
  );
}

function resolve(pointer: string): unknown {
  return pointer
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], document);
}

describe('the OpenAPI document', () => {
  test('When it is built, then it is an OpenAPI 3.1 document with info, paths and components', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document).toMatchObject({
      info: { title: expect.any(String), version: expect.any(String), description: expect.any(String) },
      components: {
        schemas: expect.objectContaining({ ErrorEnvelope: expect.any(Object), User: expect.any(Object) }),
        securitySchemes: {
          accessToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    });
    expect(Object.keys(document.paths).length).toBeGreaterThan(30);
    for (const path of Object.keys(document.paths)) expect(path).toMatch(/^\/[^:]*$/); // templated, no :id
  });

  test('When its $refs are followed, then every one resolves inside the document', () => {
    const refs = refsIn(document);

    expect(refs.length).toBeGreaterThan(50);
    const dangling = refs.filter(({ ref }) => !ref.startsWith('#/') || resolve(ref) === undefined);
    expect(dangling).toEqual([]);
  });

  test('When operations are listed, then each has a unique operationId, a tag, a summary and an answer', () => {
    const ids = operations.map(({ op }) => op.operationId);

    expect(new Set(ids).size).toBe(ids.length);
    for (const { key, op } of operations) {
      expect([key, op.summary, op.tags]).toEqual([key, expect.any(String), [expect.any(String)]]);
      const statuses = Object.keys(op.responses).map(Number);
      expect([key, statuses.some((status) => status < 400)]).toEqual([key, true]);
      // Path templates and parameters agree (OpenAPI requires a parameter for each template).
      const templated = [...key.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]).sort();
      const declared = ((op['parameters'] as { in: string; name: string }[]) ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      expect([key, declared]).toEqual([key, templated]);
    }
  });

  test('When the app is walked, then every route has exactly one operation and every operation a route', () => {
    expect(problems).toEqual([]);
    expect(operations.map((o) => o.key).sort()).toEqual([...ROUTES.keys()].sort());
    expect([...ROUTES.keys()]).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/register',
        'GET /api/v1/openapi.json',
        'POST /v1/chat/completions',
      ]),
    );
  });

  test("When a route requires scopes, then its operation's security lists them, for a token and a key", () => {
    for (const { key, op } of operations) {
      const scopes = ROUTES.get(key);
      if (scopes === undefined) {
        expect([key, op.security]).toEqual([key, []]); // public: sign-in, inbound webhooks, discovery
        continue;
      }
      const schemes = op.security.map((requirement) => Object.keys(requirement)[0]);
      expect([key, op.security.map((requirement) => Object.values(requirement)[0])]).toEqual([
        key,
        schemes.map(() => scopes),
      ]);
      expect(schemes[0]).toBe('accessToken');
    }
    // A session's own actions take an access token only; the rest an API key too.
    expect(operationOf('POST /api/v1/auth/logout').security).toEqual([{ accessToken: [] }]);
    expect(operationOf('DELETE /api/v1/users/me').security).toEqual([{ accessToken: ['profile:write'] }]);
    expect(operationOf('GET /api/v1/users/me').security).toEqual([
      { accessToken: ['profile:read'] },
      { apiKey: ['profile:read'] },
    ]);
  });

  test('When an operation can fail, then its errors are the envelope (OpenAI’s shape under /v1)', () => {
    for (const { key, op } of operations) {
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        const expected = key.split(' ')[1].startsWith('/v1/') ? 'OpenAiError' : 'ErrorEnvelope';
        expect([key, status, response.content?.['application/json']?.schema]).toEqual([
          key,
          status,
          { $ref: `#/components/schemas/${expected}` },
        ]);
      }
    }
    expect(Object.keys(operationOf('GET /api/v1/sessions/:id').responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '429', '503']),
    );
  });

  test('When an answer is streamed, then it is documented as text/event-stream', () => {
    expect(operationOf('GET /api/v1/events').responses['200'].content).toHaveProperty('text/event-stream');
    expect(operationOf('POST /api/v1/sessions/:id/messages').responses['200'].content).toHaveProperty(
      'text/event-stream',
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// The request schemas as a client reads them refuse what the gateway's validators refuse.

let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The operation's JSON body schema from the document, as a validator (zod reads JSON Schema 2020-12). */
function documentedBody(key: string) {
  const schema = operationOf(key).requestBody!.content['application/json'].schema;
  expect(refsIn(schema)).toEqual([]); // request schemas are self-contained
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
}

async function send(key: string, json: unknown) {
  const [method, path] = key.split(' ');
  const response = await fetch(`${baseUrl}${path.replace(/:[A-Za-z]+/g, 'm@1')}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(json),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

const CASES: { key: string; valid: Record<string, unknown>; invalid: [string, Record<string, unknown>][] }[] =
  [
    {
      key: 'POST /api/v1/auth/register',
      valid: { email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada' },
      invalid: [
        ['an unknown member', { email: 'a@example.com', password: 'pw', name: 'A', roles: ['admin'] }],
        [
          'a password over 1024 characters',
          { email: 'a@example.com', password: 'p'.repeat(1025), name: 'A' },
        ],
        ['no name', { email: 'a@example.com', password: 'pw' }],
        ['a number for the email', { email: 42, password: 'pw', name: 'A' }],
      ],
    },
    {
      key: 'PATCH /api/v1/users/me',
      valid: { name: 'Ada', preferences: { theme: 'dark' } },
      invalid: [
        ['a server-owned field', { name: 'Ada', email: 'other@example.com' }],
        ['a locale over 64 characters', { locale: 'x'.repeat(65) }],
      ],
    },
    {
      key: 'PUT /api/v1/admin/models/aliases/:name',
      valid: { targets: [{ version: 'm@1', weight: 100 }] },
      invalid: [
        ['no target', { targets: [] }],
        ['a weight above 10000', { targets: [{ version: 'm@1', weight: 10_001 }] }],
        ['a fractional weight', { targets: [{ version: 'm@1', weight: 1.5 }] }],
        ['an unknown member in a target', { targets: [{ version: 'm@1', weight: 1, region: 'eu' }] }],
      ],
    },
    {
      key: 'POST /api/v1/admin/models/versions',
      valid: {
        model: 'm',
        version: '1',
        provider_id: 'local',
        provider_model: 'x',
        capabilities: { vision: false, streaming: true, context_window: 1000, max_output_tokens: 100 },
        input_price_per_million: '0.15',
        output_price_per_million: '0.60',
        retires_at: null,
      },
      invalid: [
        [
          'a price as a number',
          {
            model: 'm',
            version: '1',
            provider_id: 'local',
            provider_model: 'x',
            capabilities: { vision: false, streaming: true, context_window: 1000, max_output_tokens: 100 },
            input_price_per_million: 0.15,
            output_price_per_million: '0.60',
          },
        ],
        [
          'a context window of 0',
          {
            model: 'm',
            version: '1',
            provider_id: 'local',
            provider_model: 'x',
            capabilities: { vision: false, streaming: true, context_window: 0, max_output_tokens: 100 },
            input_price_per_million: '0',
            output_price_per_million: '0',
          },
        ],
      ],
    },
  ];

describe.each(CASES)('the request body of $key', ({ key, valid, invalid }) => {
  test('When a valid body is checked against the document, then it passes', () => {
    expect(documentedBody(key).safeParse(valid).error?.issues).toBeUndefined();
  });

  test.each(invalid)(
    'When the body has %s, then the gateway answers 400 and the document refuses it too',
    async (_what, body) => {
      const answer = await send(key, body);

      expect([answer.status, answer.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(documentedBody(key).safeParse(body).success).toBe(false);
    },
  );
});

describe('serving the document and the reference page', () => {
  test('When /api/v1/openapi.json is fetched, then it is the document, cacheable by anyone for 5 minutes', async () => {
    const response = await fetch(`${baseUrl}/api/v1/openapi.json`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(document)));
  });

  test('When /docs is fetched, then the page loads only this origin’s files under a strict CSP', async () => {
    const response = await fetch(`${baseUrl}/docs`);
    const html = await response.text();

    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(html).not.toMatch(/<script>|<style|https?:\/\//); // no inline code, no other origin
    for (const file of ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']) {
      expect(html).toContain(file);
      expect((await fetch(`${baseUrl}${file}`)).status).toBe(200);
    }
  });

  test('When a file Swagger UI ships but the page does not use is asked for, then 404 in the envelope', async () => {
    const response = await fetch(`${baseUrl}/docs/index.html`);

    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
