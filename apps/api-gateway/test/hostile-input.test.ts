import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { SCOPES } from '@te/platform';
import { AiGatewayServiceProcess } from './support/ai-gateway-service.process.js';
import { ContextServiceProcess } from './support/context-service.process.js';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { IntegrationServiceProcess } from './support/integration-service.process.js';
import { UserServiceProcess } from './support/user-service.process.js';

/*
 * Hostile input over the whole public API (`npm run test:security`; issue 7, decision 0023-gateway-edge).
 * The cases are generated from the running gateway's own OpenAPI document — built from its Express
 * route table (src/openapi/route-walk.ts) — so every route meets every hostile shape, and a route added
 * later is covered without anyone listing it:
 *   - JSON bodies: malformed JSON, wrong top-level types, each declared field with each wrong type, over
 *     its length limit and over the body limit, `__proto__` / `constructor` / `prototype` keys, invalid
 *     UTF-8 bytes, lone surrogates, NUL and RTL characters, content-type lies;
 *   - path parameters: traversal (plain, encoded, double-encoded), huge, not ids, SQL-ish, NUL, broken
 *     percent-encoding, and another user's ids in disguise (case, padding, `..`);
 *   - headers: CRLF / bare CR / LF / obs-fold in X-Request-Id, Idempotency-Key and traceparent (never
 *     echoed unsanitised), oversized headers; query strings: repeated, bracketed, huge, NUL, unknown.
 * Every answer must be a 4xx in the envelope (OpenAI's error shape under /v1) with a stable code and no
 * internals; the in-process gateway must log no internal error and its prototypes stay clean; the
 * services stay ready; neither user's data changes.
 *
 * Node's own HTTP parser answers some requests before Express sees them (headers over 16 KiB → 431, a
 * bare CR or a NUL in a header → 400): those answers are bare (`Connection: close`, no body) and cannot
 * carry the envelope. Such cases are marked `nodeLevel` and only need a 4xx.
 */

// ---------------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over a socket: the bytes of the path, headers and body go out exactly as written (fetch
// and http.request normalise `%2e%2e`, refuse CR/LF in headers and re-encode bodies).

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function rawRequest(
  port: number,
  request: { method: string; path: string; headers?: [string, string][]; body?: Buffer },
): Promise<RawResponse> {
  const body = request.body ?? Buffer.alloc(0);
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    ...(request.body !== undefined ? [`Content-Length: ${body.length}`] : []),
    ...(request.headers ?? []).map(([name, value]) => `${name}: ${value}`),
  ];
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(Buffer.concat([head, body]));
    });
    socket.setTimeout(20_000, () =>
      socket.destroy(new Error(`no answer to ${request.method} ${request.path}`)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => (chunks.length ? done() : reject(error)));
    socket.on('end', () => done());
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
  });
}

function parseResponse(bytes: Buffer): RawResponse {
  const split = bytes.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`incomplete response: ${bytes.toString('latin1').slice(0, 200)}`);
  const [statusLine, ...headerLines] = bytes.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(':');
    const name = line.slice(0, at).trim().toLowerCase();
    headers[name] = headers[name]
      ? `${headers[name]}, ${line.slice(at + 1).trim()}`
      : line.slice(at + 1).trim();
  }
  let body = bytes.subarray(split + 4);
  if (headers['transfer-encoding']?.includes('chunked')) body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, text: body.toString('utf8') };
}

function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n', at);
    if (end < 0) break;
    const size = parseInt(bytes.subarray(at, end).toString('latin1'), 16);
    if (!size) break;
    parts.push(bytes.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------
// The route table, as the running gateway describes it.

type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  maxLength?: number;
  minLength?: number;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  items?: JsonSchema;
  minItems?: number;
  minimum?: number;
};

interface Route {
  key: string;
  method: string;
  /** `/api/v1/sessions/:id` */
  path: string;
  params: string[];
  query: string[];
  /** Public (no credential), or the scopes the route requires. */
  scopes?: string[];
  json?: JsonSchema;
  multipart: boolean;
  rawBody: boolean;
}

function routesOf(document: { paths: Record<string, Record<string, Record<string, unknown>>> }): Route[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => {
      const parameters = operation['parameters'] as { in: string; name: string }[];
      const content = (
        operation['requestBody'] as { content: Record<string, { schema: JsonSchema }> } | undefined
      )?.content;
      const expressPath = path.replace(/\{([^}]+)\}/g, ':$1');
      return {
        key: `${method.toUpperCase()} ${expressPath}`,
        method: method.toUpperCase(),
        path: expressPath,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        scopes: operation['x-required-scopes'] as string[] | undefined,
        json: content?.['application/json']?.schema,
        multipart: Boolean(content?.['multipart/form-data']),
        rawBody: Boolean(content?.['*/*']),
      };
    }),
  );
}

const isOpenAi = (route: Route) => route.path.startsWith('/v1/');
const isAdmin = (route: Route) => Boolean(route.scopes?.some((scope) => scope.startsWith('admin:')));
const isPublic = (route: Route) => route.scopes === undefined;

// ---------------------------------------------------------------------------------------------------
// Values: a minimal body each schema accepts, and what each field must refuse.

const typesOf = (schema: JsonSchema): string[] => {
  if (schema.anyOf) return schema.anyOf.flatMap(typesOf);
  if (schema.enum) return [...new Set(schema.enum.map((v) => (v === null ? 'null' : typeof v)))];
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type] : [];
};

/** Something of the schema's type that satisfies its bounds (the services may still refuse it). */
function minimal(schema: JsonSchema): unknown {
  if (schema.anyOf) return minimal(schema.anyOf[0]);
  if (schema.enum) return schema.enum[0];
  switch (typesOf(schema)[0]) {
    case 'string':
      return 'a'.repeat(schema.minLength ?? 1);
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => minimal(schema.items ?? {}));
    case 'object':
      return minimalObject(schema);
    default:
      return 'a';
  }
}

function minimalObject(schema: JsonSchema): Record<string, unknown> {
  return Object.fromEntries((schema.required ?? []).map((name) => [name, minimal(schema.properties![name])]));
}

const MiB = 1024 * 1024;
const MEGABYTE_STRING = 'x'.repeat(MiB);
const DEEP_ARRAY = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;

/** Wrong values for a field: every JSON type it does not take, and strings over its limit. */
function wrongValues(schema: JsonSchema): [label: string, rawJson: string][] {
  const types = typesOf(schema);
  const any = types.length === 0; // `{}`: any JSON (preferences, settings): only sizes and depth
  const candidates: [string, string, string][] = [
    ['number', 'number', '12345'],
    ['huge number', 'number', '1e309'],
    ['string', 'string', '"12345"'],
    ['boolean', 'boolean', 'true'],
    ['object', 'object', '{"$gt":""}'],
    ['array', 'array', '["a",1,null]'],
    ['null', 'null', 'null'],
  ];
  const out: [string, string][] = any
    ? []
    : candidates
        .filter(([, type]) => !types.includes(type) && !(type === 'number' && types.includes('integer')))
        .map(([label, , raw]) => [label, raw]);
  if (types.includes('integer'))
    out.push(['fraction', '1.5'], ['negative', '-1'], ['beyond 2^53', '9007199254740993']);
  if (types.includes('string') && schema.maxLength !== undefined && !schema.enum) {
    out.push([`string of ${schema.maxLength + 1}`, JSON.stringify('s'.repeat(schema.maxLength + 1))]);
  }
  out.push(['1 MiB string', JSON.stringify(MEGABYTE_STRING)], ['10k nested arrays', DEEP_ARRAY]);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Cases

interface Case {
  route: Route;
  kind: string;
  method: string;
  path: string;
  headers: [string, string][];
  body?: Buffer;
  /** The status this shape must get, when it is fixed (otherwise any 4xx). */
  status?: number | number[];
  /** Node's HTTP parser answers before Express: a bare 4xx without the envelope is right. */
  nodeLevel?: true;
  /** Public routes answer some hostile headers normally (the check is on what is echoed). */
  mayPass?: true;
  /** When a 2xx is acceptable (mayPass), the text the answer must carry exactly. */
  echo?: string;
  /** An injected X-Request-Id that must not come back as is. */
  injectedRequestId?: string;
}

const JSON_TYPE: [string, string] = ['Content-Type', 'application/json'];

function bodyCases(
  route: Route,
  auth: [string, string][],
  base: Record<string, unknown>,
): Omit<Case, 'route' | 'method' | 'path'>[] {
  const schema = route.json!;
  const baseJson = JSON.stringify(base);
  const withMember = (member: string) =>
    baseJson === '{}' ? `{${member}}` : `{${member},${baseJson.slice(1)}`;
  const json = (kind: string, raw: string | Buffer, extra: Partial<Case> = {}) => ({
    kind,
    headers: [JSON_TYPE, ...auth],
    body: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
    ...extra,
  });
  const cases = [
    json('malformed: truncated', baseJson.slice(0, -1) || '{', { status: 400 }),
    json('malformed: trailing garbage', `${baseJson}}garbage`, { status: 400 }),
    json('malformed: NaN', withMember('"x":NaN'), { status: 400 }),
    json('malformed: single quotes', "{'a':1}", { status: 400 }),
    json('10k nested arrays', DEEP_ARRAY, { status: 400 }),
    json('10k nested objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, { status: 400 }),
    json('top level: array', `[${baseJson}]`, { status: 400 }),
    json('top level: string', '"text"', { status: 400 }),
    json('top level: number', '42', { status: 400 }),
    json('top level: null', 'null', { status: 400 }),
    // JSON_BODY_LIMIT (100 kB in the tests), CHAT_BODY_LIMIT (4 MB) under /v1.
    json('body over the limit', withMember(`"pad":"${'p'.repeat(isOpenAi(route) ? 5 * MiB : 200 * 1024)}"`), {
      status: 413,
    }),
    json(
      'invalid UTF-8 bytes',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]),
      {
        status: 400,
      },
    ),
    json(
      'UTF-8 encoded lone surrogate (CESU bytes)',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      {
        status: 400,
      },
    ),
    json('UTF-16 body labelled utf-8', Buffer.from(baseJson, 'utf16le'), { status: 400 }),
    json('charset lie', baseJson, {
      headers: [['Content-Type', 'application/json; charset=ibm-037'], ...auth],
      status: 415,
    }),
    {
      kind: 'content-type lie: text/plain',
      headers: [['Content-Type', 'text/plain'] as [string, string], ...auth],
      body: Buffer.from(baseJson),
      status: 415,
    },
    {
      kind: 'content-type lie: no content type',
      headers: auth,
      body: Buffer.from(baseJson),
      status: 415,
    },
    {
      kind: 'content-type lie: multipart',
      headers: [['Content-Type', 'multipart/form-data; boundary=XyZ'] as [string, string], ...auth],
      body: Buffer.from(
        `--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n${baseJson}\r\n--XyZ--\r\n`,
      ),
      status: 415,
    },
    {
      kind: 'content-type lie: form-encoded',
      headers: [['Content-Type', 'application/x-www-form-urlencoded'] as [string, string], ...auth],
      body: Buffer.from('__proto__[admin]=true&a=b'),
      status: 415,
    },
    ...['__proto__', 'constructor', 'prototype'].map((key) =>
      json(`${key} key at the top`, withMember(`"${key}":{"polluted":true,"prototype":{"polluted":true}}`), {
        status: 400,
      }),
    ),
    json('__proto__ key with a scalar', withMember('"__proto__":null'), { status: 400 }),
  ];
  for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
    const at = (raw: string) =>
      JSON.stringify({ ...base, [field]: '\u0000MARK\u0000' }).replace('"\\u0000MARK\\u0000"', raw);
    for (const [label, raw] of wrongValues(fieldSchema)) {
      const tooLarge = label === '1 MiB string' && !isOpenAi(route); // /v1 takes 4 MB
      cases.push(json(`${field}: ${label}`, at(raw), tooLarge ? { status: 413 } : {}));
    }
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      cases.push(json(`${field}: nested ${key}`, at(`{"${key}":{"polluted":true}}`)));
    }
    if (typesOf(fieldSchema).includes('string') && !fieldSchema.enum) {
      cases.push(
        json(`${field}: lone surrogate (escaped)`, at('"a\\ud800b"')),
        json(`${field}: lone low surrogate (escaped)`, at('"\\udfff"')),
        json(`${field}: NUL characters`, at('"a\\u0000b"')),
        // Well-formed Unicode: may be taken, but then kept exactly (clients isolate bidi text).
        json(`${field}: RTL override and zero-width`, at('"\\u202egnp.exe\\u200b\\ufeff"'), {
          mayPass: true,
          echo: '\u202egnp.exe\u200b', // a trailing U+FEFF is trimmed like other white space,
        }),
        json(
          `${field}: invalid UTF-8 bytes`,
          Buffer.concat([
            Buffer.from(at('"\u0001"').split('\u0001')[0]),
            Buffer.from([0xc0, 0xaf, 0xff]),
            Buffer.from(at('"\u0001"').split('\u0001')[1]),
          ]),
        ),
      );
    }
  }
  return cases;
}

// Path parameters: each in turn gets each hostile value (the others a well-formed id of the caller).
const HOSTILE_IDS: [string, string][] = [
  ['traversal encoded', '..%2F..%2Fetc%2Fpasswd'],
  ['dot-dot encoded', '%2e%2e'],
  ['traversal fully encoded', '%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
  ['traversal double-encoded', '%252e%252e%252fetc%252fpasswd'],
  ['dot-dot', '..'],
  ['backslash traversal', '..%5C..%5Cwindows'],
  ['10k characters', 'a'.repeat(10_000)],
  ['not a UUID', 'not-a-uuid'],
  ['number', '12345'],
  ['negative', '-1'],
  ['nil UUID', '00000000-0000-0000-0000-000000000000'],
  ['UUID in braces', `%7B${randomUUID()}%7D`],
  ['UUID with trailing junk', `${randomUUID()}x`],
  ['SQL quote', "'%20OR%20'1'%3D'1"],
  ['SQL statement', '1%3BDROP%20TABLE%20users--'],
  ['NUL', '%00'],
  ['NUL inside', `${randomUUID()}%00`],
  ['broken percent-encoding', '%E0%A4%A'],
  ['lone percent', '%'],
  ['invalid UTF-8', '%FF%FE'],
  ['encoded lone surrogate', '%ED%A0%80'],
  ['RTL override', '%E2%80%AEabc'],
  ['template', '%24%7B7*7%7D'],
  ['JSON', '%7B%22%24ne%22%3Anull%7D'],
];

// Headers: CR/LF smuggling, sent raw (fetch and http.request refuse them).
const INJECTED = 'abc\r\nSet-Cookie: injected=1';

interface Actor {
  session: Session;
  conversationId: string;
  webhookId: string;
  connectorId: string;
  keyId: string;
}

/** The other user's resource behind each resource route (the segment before the first parameter). */
const OWNED: Record<string, (actor: Actor) => string> = {
  sessions: (actor) => actor.conversationId,
  webhooks: (actor) => actor.webhookId,
  connectors: (actor) => actor.connectorId,
  'api-keys': (actor) => actor.keyId,
};
const resourceOf = (route: Route) => route.path.match(/^\/api\/v1\/([^/]+)\/:/)?.[1];

// ---------------------------------------------------------------------------------------------------

let userService: UserServiceProcess | undefined;
let contextService: ContextServiceProcess | undefined;
let integrationService: IntegrationServiceProcess | undefined;
let aiGateway: AiGatewayServiceProcess | undefined;
let gateway: RunningGateway;
let port: number;
let routes: Route[];
let alice: Actor;
let bob: Actor;
let adminSession: Session;
/** Signed in for the body corpus (alice's and bob's data must not change at all). */
let carol: Session;
const ADMIN = newCredentials('admin');

const bearer = (session: Session): [string, string] => ['Authorization', `Bearer ${session.access_token}`];

async function newActor(): Promise<Actor> {
  const { status, body } = await register(gateway.baseUrl);
  expect(status).toBe(201);
  const session = body.data!;
  const headers = { authorization: `Bearer ${session.access_token}` };
  const post = async <T>(path: string, json: unknown) => {
    const response = await call<T>(gateway.baseUrl, 'POST', path, { json, headers });
    expect([path, response.status]).toEqual([path, 201]);
    return response.body.data!;
  };
  const conversation = await post<{ session: { id: string } }>('/api/v1/sessions', { title: 'private' });
  const webhook = await post<{ webhook: { id: string } }>('/api/v1/webhooks', {
    url: 'https://hooks.example.com/private',
    event_types: ['ai.inference.failed'],
    description: 'private',
  });
  const connector = await post<{ connector: { id: string } }>('/api/v1/connectors', {
    kind: 'http',
    name: 'private',
    event_types: ['ai.inference.failed'],
    settings: { url: 'https://hooks.example.com/private' },
    credential: 'Bearer private-token',
  });
  const key = await post<{ api_key: { id: string } }>('/api/v1/api-keys', {
    name: 'private',
    scopes: [SCOPES.profileRead],
  });
  return {
    session,
    conversationId: conversation.session.id,
    webhookId: webhook.webhook.id,
    connectorId: connector.connector.id,
    keyId: key.api_key.id,
  };
}

/** Everything a user can read of their own: must be the same before and after the corpus. */
async function snapshot(actor: Actor) {
  const headers = { authorization: `Bearer ${actor.session.access_token}` };
  const get = async (path: string) => {
    const response = await call(gateway.baseUrl, 'GET', path, { headers });
    expect([path, response.status]).toEqual([path, 200]);
    return response.body.data;
  };
  return {
    me: await get('/api/v1/users/me'),
    sessions: await get('/api/v1/sessions'),
    conversation: await get(`/api/v1/sessions/${actor.conversationId}`),
    messages: await get(`/api/v1/sessions/${actor.conversationId}/messages`),
    keys: await get('/api/v1/api-keys'),
    webhooks: await get('/api/v1/webhooks'),
    connectors: await get('/api/v1/connectors'),
  };
}

/** Runs `work` over `items` with at most `limit` in flight (a 2-core machine: the server needs the CPU). */
async function bounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** What is wrong with an answer to a hostile case ([] when it is right). */
function problemsOf(testCase: Case, response: RawResponse, secrets: string[]): string[] {
  const problems: string[] = [];
  const { status } = response;
  const allowed = testCase.status === undefined ? undefined : [testCase.status].flat();
  if (testCase.mayPass ? status >= 500 : status < 400 || status > 499)
    problems.push(`status ${status} (request ${response.headers['x-request-id']})`);
  else if (allowed && !allowed.includes(status))
    problems.push(`status ${status}, expected ${allowed.join('|')}`);
  if (
    /\n\s+at |node_modules|node:internal|\/work\/|\.[cm]?[jt]s:\d+|prisma|postgres|grpc|stack/i.test(
      response.text,
    )
  ) {
    problems.push('internal details in the body');
  }
  for (const secret of secrets)
    if (response.text.includes(secret)) problems.push(`another user's ${secret} in the body`);
  if (response.headers['set-cookie']?.includes('injected')) problems.push('injected header reflected');
  const requestId = response.headers['x-request-id'];
  if (testCase.injectedRequestId !== undefined && requestId === testCase.injectedRequestId) {
    problems.push('X-Request-Id echoed unsanitised');
  }
  if (requestId !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(requestId))
    problems.push(`unsafe X-Request-Id ${requestId}`);
  if (testCase.nodeLevel && !response.headers['content-type']) return problems; // Node's bare answer
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(response.text) as Record<string, unknown>;
  } catch {
    return [...problems, `not JSON: ${response.text.slice(0, 80)}`];
  }
  if (testCase.mayPass && status < 400) {
    if (
      testCase.echo !== undefined &&
      !JSON.stringify(body).includes(JSON.stringify(testCase.echo).slice(1, -1))
    ) {
      problems.push('accepted but not kept as sent');
    }
    return problems;
  }
  if (isOpenAi(testCase.route)) {
    const error = body['error'] as Record<string, unknown> | undefined;
    if (typeof error?.['type'] !== 'string' || typeof error['message'] !== 'string')
      problems.push('not an OpenAI error');
    return problems;
  }
  const error = body['error'] as { code?: unknown } | null;
  const metadata = body['metadata'] as { request_id?: unknown } | undefined;
  if (body['success'] !== false || typeof error?.code !== 'string' || !/^[A-Z_]+$/.test(error.code)) {
    problems.push(`not an error envelope: ${response.text.slice(0, 120)}`);
  }
  if (metadata?.request_id !== requestId) problems.push('metadata.request_id differs from X-Request-Id');
  return problems;
}

beforeAll(async () => {
  userService = await UserServiceProcess.create({ ADMIN_EMAILS: ADMIN.email });
  aiGateway = await AiGatewayServiceProcess.create();
  integrationService = await IntegrationServiceProcess.create();
  await Promise.all([userService.start(), aiGateway.start(), integrationService.start()]);
  contextService = await ContextServiceProcess.create({ AI_GATEWAY_SERVICE_ADDR: aiGateway.address });
  await contextService.start();
  gateway = await startGateway(userService.address, {
    CONTEXT_SERVICE_ADDR: contextService.address,
    AI_GATEWAY_SERVICE_ADDR: aiGateway.address,
    INTEGRATION_SERVICE_ADDR: integrationService.address,
  });
  port = Number(new URL(gateway.baseUrl).port);
  const document = await fetch(`${gateway.baseUrl}/api/v1/openapi.json`);
  expect(document.status).toBe(200);
  routes = routesOf((await document.json()) as Parameters<typeof routesOf>[0]);
  alice = await newActor();
  bob = await newActor();
  const admin = await register(gateway.baseUrl, ADMIN);
  expect(admin.status).toBe(201);
  adminSession = admin.body.data!;
  carol = (await register(gateway.baseUrl)).body.data!;
}, 240_000);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([
    userService?.dispose(),
    contextService?.dispose(),
    integrationService?.dispose(),
    aiGateway?.dispose(),
  ]);
}, 60_000);

/** The concrete path of a route: the given parameters, a fresh UUID for the others. */
function pathWith(route: Route, overrides: Record<string, string> = {}): string {
  return route.path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => overrides[name] ?? randomUUID());
}

function generateCases(): Case[] {
  const cases: Case[] = [];
  const add = (route: Route, partial: Omit<Case, 'route' | 'method' | 'path'> & { path?: string }) =>
    cases.push({ route, method: route.method, path: partial.path ?? pathWith(route), ...partial });
  for (const route of routes) {
    const auth: [string, string][] = isPublic(route)
      ? []
      : [bearer(isAdmin(route) ? adminSession : alice.session)];
    // Bodies: signed in (as carol, whose data may change when a case is rightly taken), so validation
    // runs past authentication; a fresh UUID in every id, so a body that slipped through finds nothing.
    if (route.json) {
      const bodyAuth: [string, string][] = isPublic(route)
        ? []
        : [bearer(isAdmin(route) ? adminSession : carol)];
      for (const c of bodyCases(route, bodyAuth, minimalObject(route.json))) add(route, c);
      // Unauthenticated: refused (400 by the JSON parser, else 401) before anything else.
      if (!isPublic(route)) {
        for (const c of bodyCases(route, [], minimalObject(route.json)).filter((c) =>
          /^(malformed: truncated|__proto__ key at the top|invalid UTF-8 bytes|top level: array|body over the limit)/.test(
            c.kind,
          ),
        )) {
          add(route, { ...c, kind: `unauthenticated ${c.kind}`, status: [400, 401, 413, 415] });
        }
      }
    }
    if (route.multipart) {
      const multipart = (kind: string, contentType: string, body: string) =>
        add(route, {
          kind,
          path: pathWith(route, { id: alice.conversationId }),
          headers: [['Content-Type', contentType], ...auth],
          body: Buffer.from(body, 'latin1'),
        });
      multipart('multipart: JSON instead', 'application/json', '{"file":"AAAA"}');
      multipart('multipart: no boundary', 'multipart/form-data', '--x\r\n\r\n--x--');
      multipart(
        'multipart: truncated',
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG',
      );
      multipart(
        'multipart: no file part',
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="other"\r\n\r\nvalue\r\n--x--\r\n',
      );
      multipart(
        'multipart: not an image',
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\nContent-Type: image/png\r\n\r\nroot:x:0:0\r\n--x--\r\n',
      );
      multipart(
        'multipart: __proto__ field',
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\n{"polluted":true}\r\n--x--\r\n',
      );
    }
    if (route.rawBody) {
      for (const [kind, body] of [
        ['raw: malformed JSON', Buffer.from('{"a":')],
        ['raw: invalid UTF-8', Buffer.from([0xff, 0xfe, 0xfd])],
        ['raw: over the limit', Buffer.alloc(2 * 1024 * 1024, 0x61)],
      ] as const) {
        add(route, { kind, headers: [JSON_TYPE], body });
      }
    }
    // Path parameters.
    for (const param of route.params) {
      const others = Object.fromEntries(
        route.params
          .filter((p) => p !== param)
          .map((p) => [
            p,
            p === 'id' && resourceOf(route) === 'sessions' ? alice.conversationId : randomUUID(),
          ]),
      );
      for (const [label, value] of HOSTILE_IDS) {
        add(route, {
          kind: `:${param} ${label}`,
          path: pathWith(route, { ...others, [param]: value }),
          headers: [...auth, ...(route.json ? [JSON_TYPE] : [])],
          ...(route.json ? { body: Buffer.from(JSON.stringify(minimalObject(route.json))) } : {}),
        });
      }
      // Another user's resource in disguise.
      const owned = param === 'id' ? OWNED[resourceOf(route) ?? ''] : undefined;
      if (owned) {
        const theirs = owned(bob);
        for (const [label, value] of [
          ['their id', theirs],
          ['their id upper-cased', theirs.toUpperCase()],
          ['their id padded', `%20${theirs}%20`],
          ['their id with NUL', `${theirs}%00`],
          ['mine/../theirs', `${owned(alice)}%2F..%2F${theirs}`],
          ['theirs;mine', `${theirs}%3B${owned(alice)}`],
        ]) {
          add(route, {
            kind: `:id ${label}`,
            path: pathWith(route, { ...others, id: value }),
            headers: [bearer(alice.session), ...(route.json ? [JSON_TYPE] : [])],
            ...(route.json ? { body: Buffer.from(JSON.stringify(minimalObject(route.json))) } : {}),
          });
        }
      }
    }
    // Query strings.
    if (route.query.length) {
      for (const [label, query] of [
        ['repeated parameter', `${route.query[0]}=1&${route.query[0]}=2`],
        ['bracketed array', `${route.query[0]}[]=1&${route.query[0]}[]=2`],
        ['nested object', `${route.query[0]}[$gt]=`],
        ['huge value', `${route.query[0]}=${'q'.repeat(10_000)}`],
        ['NUL', `${route.query[0]}=%00`],
        ['invalid UTF-8', `${route.query[0]}=%FF%FE`],
        ['unknown parameter', 'user_id=' + bob.session.user.id],
        ['__proto__', '__proto__[polluted]=true'],
        ['constructor', 'constructor[prototype][polluted]=true'],
      ]) {
        add(route, {
          kind: `query ${label}`,
          path: `${pathWith(route, { id: route.path.startsWith('/api/v1/sessions/') ? alice.conversationId : randomUUID() })}?${query}`,
          headers: auth,
        });
      }
    }
    // Headers, unauthenticated on every route (public ones may answer normally: only what is echoed matters).
    const headerCase = (kind: string, headers: [string, string][], extra: Partial<Case> = {}) =>
      add(route, {
        kind,
        headers,
        ...(isPublic(route) ? { mayPass: true } : {}),
        ...(route.json ? { body: Buffer.from('{}'), headers: [JSON_TYPE, ...headers] } : {}),
        ...extra,
      });
    headerCase('X-Request-Id CRLF', [['X-Request-Id', INJECTED]], {
      injectedRequestId: 'abc\r\nSet-Cookie: injected=1',
    });
    headerCase('X-Request-Id encoded CRLF', [['X-Request-Id', 'abc%0d%0aSet-Cookie:%20injected=1']], {
      injectedRequestId: 'abc%0d%0aSet-Cookie:%20injected=1',
    });
    headerCase('X-Request-Id bare CR', [['X-Request-Id', 'abc\rSet-Cookie: injected=1']], {
      nodeLevel: true,
      mayPass: undefined,
    });
    headerCase('X-Request-Id obs-fold', [['X-Request-Id', 'abc\r\n Set-Cookie: injected=1']], {
      nodeLevel: true,
      mayPass: undefined,
    });
    headerCase('X-Request-Id latin-1 bytes', [['X-Request-Id', 'abc\xff\xfe<script>']], {
      injectedRequestId: 'abc\xff\xfe<script>',
    });
    headerCase('X-Request-Id 129 characters', [['X-Request-Id', 'r'.repeat(129)]], {
      injectedRequestId: 'r'.repeat(129),
    });
    headerCase('traceparent garbage', [['traceparent', '00-zz-\r\nSet-Cookie: injected=1']]);
    headerCase('traceparent all zeros', [['traceparent', `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`]]);
    headerCase('traceparent huge', [
      ['traceparent', `00-${'a'.repeat(8000)}-01`],
      ['tracestate', 'k=v,'.repeat(1000)],
    ]);
    headerCase('header over 16 KiB', [['X-Request-Id', 'h'.repeat(20 * 1024)]], {
      nodeLevel: true,
      status: 431,
      mayPass: undefined,
    });
    headerCase('NUL in a header', [['X-Request-Id', 'a\0b']], {
      nodeLevel: true,
      status: 400,
      mayPass: undefined,
    });
  }
  // Authenticated header cases: a read (answers 200: only what is echoed matters) and a create (the
  // Idempotency-Key is checked before anything is stored).
  const me = routes.find((r) => r.key === 'GET /api/v1/users/me')!;
  const create = routes.find((r) => r.key === 'POST /api/v1/sessions')!;
  for (const [kind, headers, injected] of [
    ['X-Request-Id CRLF', [['X-Request-Id', INJECTED]], 'abc\r\nSet-Cookie: injected=1'],
    ['X-Request-Id HTML', [['X-Request-Id', '<script>alert(1)</script>']], '<script>alert(1)</script>'],
    ['traceparent CRLF', [['traceparent', '00-abc\r\nSet-Cookie: injected=1']], undefined],
  ] as [string, [string, string][], string | undefined][]) {
    cases.push({
      route: me,
      kind: `signed in ${kind}`,
      method: 'GET',
      path: me.path,
      headers: [bearer(alice.session), ...headers],
      mayPass: true,
      injectedRequestId: injected,
    });
  }
  // CRLF ends the header line: the key is then `key` (well-formed) and the body, invalid, is the 400.
  cases.push({
    route: create,
    kind: 'Idempotency-Key CRLF',
    method: 'POST',
    path: create.path,
    headers: [
      bearer(alice.session),
      JSON_TYPE,
      ['Idempotency-Key', `k-${randomUUID()}\r\nSet-Cookie: injected=1`],
    ],
    body: Buffer.from('{"title":12345}'),
    status: 400,
  });
  for (const [label, key] of [
    ['encoded CRLF', 'key%0d%0aSet-Cookie'],
    ['121 characters', 'k'.repeat(121)],
    ['empty', ''],
    ['spaces', 'a key'],
    ['latin-1 bytes', 'k\xff\xfe'],
    ['unicode', 'ключ'],
    ['traversal', '../../etc/passwd'],
  ]) {
    cases.push({
      route: create,
      kind: `Idempotency-Key ${label}`,
      method: 'POST',
      path: create.path,
      headers: [bearer(alice.session), JSON_TYPE, ['Idempotency-Key', key]],
      body: Buffer.from('{"title":"never created"}'),
      status: 400,
    });
  }
  return cases;
}

describe('hostile input over every route of the gateway', () => {
  test('When the route table is read, then it has the API (and this file covers every kind of input it takes)', () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => r.json).length).toBeGreaterThan(15);
    // Every route of a user-owned resource that takes an id has another user's id to try.
    const unmapped = routes.filter(
      (r) =>
        r.params.includes('id') &&
        r.path.startsWith('/api/v1/') &&
        !isAdmin(r) &&
        !OWNED[resourceOf(r) ?? ''],
    );
    expect(unmapped.map((r) => r.key)).toEqual([]);
  });

  test('When the whole corpus is sent, then every answer is a 4xx in the envelope, never a 5xx, and nothing changes', async () => {
    const before = { alice: await snapshot(alice), bob: await snapshot(bob) };
    const secrets = [
      bob.session.user.id,
      bob.session.user.email,
      bob.conversationId,
      bob.webhookId,
      bob.connectorId,
      bob.keyId,
    ];
    const cases = generateCases();
    expect(cases.length).toBeGreaterThan(1500);

    const started = Date.now();
    const outcomes = await bounded(cases, 8, async (testCase) => {
      const response = await rawRequest(port, testCase).catch((error: unknown): RawResponse => ({
        status: 0,
        headers: {},
        text: String(error),
      }));
      return { testCase, response, problems: problemsOf(testCase, response, secrets) };
    });
    const elapsed = Date.now() - started;

    const failures = outcomes
      .filter((o) => o.problems.length)
      .map((o) => `${o.testCase.route.key} [${o.testCase.kind}] → ${o.problems.join('; ')}`);
    const byStatus = new Map<number, number>();
    for (const { response } of outcomes)
      byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    console.info(`${cases.length} hostile requests in ${elapsed} ms:`, Object.fromEntries(byStatus));
    // A 5xx from a service: its own log says why (listed with the failures, for the report).
    const serviceErrors = failures.length
      ? [userService!, contextService!, integrationService!, aiGateway!].flatMap((service) =>
          service
            .logLines()
            .filter((line) => line['level'] === 'error')
            .map((line) => {
              const { service: name, rpc, method, error_message: reason } = line as Record<string, unknown>;
              const last = String(reason ?? line['message'])
                .trim()
                .split('\n')
                .slice(-1)[0];
              return `${String(name)} ${String(rpc ?? method ?? '')} (request ${String(line['request_id'])}): ${last.slice(0, 300)}`;
            }),
        )
      : [];
    expect([...failures, ...serviceErrors]).toEqual([]);

    // The gateway never failed internally (a 5xx would have been logged as such) …
    const internal = gateway.logs.lines().filter((line) => line['level'] === 'error');
    expect(internal.map((line) => line['message'])).toEqual([]);
    // … nothing reached Object.prototype in the gateway's process …
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('admin');
    // … the services are still ready …
    for (const service of [userService!, contextService!, integrationService!, aiGateway!]) {
      const ready = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
      expect(ready.status).toBe(200);
    }
    expect((await fetch(`${gateway.opsUrl}/readyz`)).status).toBe(200);
    // … and neither user's data changed.
    expect({ alice: await snapshot(alice), bob: await snapshot(bob) }).toEqual(before);
  }, 180_000);
});
