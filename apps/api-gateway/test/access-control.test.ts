import { randomUUID } from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import { captureLogger, createMetrics, Health, SCOPES, scopesForRoles, type Scope } from '@te/platform';
import type { ApiKeyCache } from '../src/auth/api-key.cache.js';
import type { RequireAuth } from '../src/auth/require-auth.middleware.js';
import { createHttpApp, type HttpAppDeps } from '../src/http/http-server.js';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { ContextServiceProcess } from './support/context-service.process.js';
import { IntegrationServiceProcess } from './support/integration-service.process.js';
import { UserServiceProcess } from './support/user-service.process.js';
import { startFakeAiGateway, type FakeAiGateway } from '@te/testing';

/*
 * The access-control pass over the whole public API (OWASP API Security Top 10: API1 broken object
 * level authorization, API3 broken object property level authorization, API5 broken function level
 * authorization). The routes come from the gateway's own Express app, so a route added later is
 * checked without anyone remembering to list it:
 *   - every route under /api/v1 and /v1 except the sign-in ones declares the scope it needs;
 *   - (a) no credential → 401; (b) a credential without the route's scope → 403 insufficient_scope;
 *   - (c) a route that takes an id, called with another user's id → 404 and nothing of theirs;
 *   - (d) a route that takes a body, given server-owned fields → 400 naming each of them.
 * /v1 is the OpenAI-compatible API (decision 0017): the same refusals, in OpenAI's error shape.
 */

// ---------------------------------------------------------------------------------------------------
// The route inventory, read from the app itself (Express 5 / router 2 keep each layer's raw path).

const SCOPES_OF = Symbol('scopes');
type Tagged = RequestHandler & { [SCOPES_OF]?: Scope[] };

/** requireAuth that only records what each route declared (the inventory never serves a request). */
const recordingRequireAuth: RequireAuth = (...scopes) => {
  const handler: Tagged = (_req, _res, next) => next();
  handler[SCOPES_OF] = scopes;
  return handler;
};

interface RouteEntry {
  /** `METHOD /path/:param`, e.g. `DELETE /api/v1/api-keys/:id`. */
  key: string;
  method: string;
  path: string;
  /** undefined: no requireAuth at all (public). */
  scopes?: Scope[];
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean>; stack: LayerLike[] };
  handle: Tagged & { stack?: LayerLike[] };
}

function inventory(app: Express): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const walk = (stack: LayerLike[], base: string, inherited: Scope[] | undefined) => {
    let scopes = inherited;
    for (const layer of stack) {
      if (layer.route) {
        const declared = layer.route.stack.map((l) => l.handle[SCOPES_OF]).find(Boolean) ?? scopes;
        const path = `${base}${layer.route.path}`.replace(/(.)\/$/, '$1');
        for (const method of Object.keys(layer.route.methods).map((m) => m.toUpperCase())) {
          routes.push({ key: `${method} ${path}`, method, path, scopes: declared });
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, `${base}${typeof layer.rawPath === 'string' ? layer.rawPath : ''}`, scopes);
      } else if (layer.handle[SCOPES_OF]) {
        scopes = layer.handle[SCOPES_OF]; // router.use(requireAuth(...)) guards what follows
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '', undefined);
  return routes;
}

const ROUTES = inventory(
  createHttpApp({
    logger: captureLogger('api-gateway').logger,
    metrics: createMetrics({ service: 'inventory', defaultMetrics: false }),
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
  }),
).filter((route) => route.path.startsWith('/api/v1/') || route.path.startsWith('/v1/'));

/** Under /v1 errors are OpenAI's `{ error: { message, type, param, code } }`, not the envelope. */
const isOpenAi = (route: RouteEntry) => route.path.startsWith('/v1/');
const OPENAI_CODES: Record<string, string> = {
  UNAUTHENTICATED: 'invalid_api_key',
  FORBIDDEN: 'insufficient_scope',
};

/** The refusal's code, as each API states it. */
function expectRefusal(route: RouteEntry, body: unknown, code: 'UNAUTHENTICATED' | 'FORBIDDEN') {
  if (isOpenAi(route)) {
    expect(body).toEqual({
      error: { message: expect.any(String), type: expect.any(String), param: null, code: OPENAI_CODES[code] },
    });
  } else {
    expect(body).toMatchObject({ success: false, error: { code } });
  }
}

/**
 * Open by design: how a caller gets a credential in the first place (and the providers list), the
 * OpenAPI document, and inbound webhooks, whose sender's signature over the raw body is the credential (checked by
 * integration-service; inbound-webhooks-api.test.ts).
 */
const PUBLIC_ROUTES = [
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'GET /api/v1/auth/oidc/providers',
  'GET /api/v1/auth/oidc/:provider/start',
  'GET /api/v1/auth/oidc/:provider/callback',
  'POST /api/v1/integrations/inbound/:source',
  // The API's own description (decision 0025-openapi): the same for everyone, like /docs beside it.
  'GET /api/v1/openapi.json',
];
/**
 * Authenticated, but with no scope: they act on the sign-in session itself (sessions engineer's
 * `requireSession()`), so an API key of any scope is refused with 403. They have no natural scope in
 * the vocabulary (libs/platform scopes.ts); ending one's own session needs only that session.
 */
const SESSION_ONLY_ROUTES = ['POST /api/v1/auth/logout', 'POST /api/v1/auth/logout-all'];
const PROTECTED = ROUTES.filter((route) => !PUBLIC_ROUTES.includes(route.key));

// ---------------------------------------------------------------------------------------------------
// What the inventory cannot know: whose ids a route takes and what a valid body looks like.

interface Actor {
  session: Session;
  /** The actor's own conversation session (context-service). */
  conversationId: string;
  /** The actor's own API key (an id another user must never reach). */
  ownKeyId: string;
  ownKeyPrefix: string;
  /** The actor's own outbound webhook endpoint (integration-service). */
  webhookId: string;
  /** The actor's own connector (integration-service, decision 0024). */
  connectorId: string;
}

interface RouteCase {
  /** The route takes no body at all (nothing a client could smuggle a field into). */
  noBody?: true;
  /** A valid body; the server-owned fields are added to it. */
  body?: Record<string, unknown>;
  /** For `:id` routes: the other user's id for this resource, and a check that it is untouched. */
  othersId?: (other: Actor) => string;
  intact?: (other: Actor) => Promise<void>;
}

/** The other user's conversation is still there, with its title and its one message. */
const conversationIntact = async (other: Actor) => {
  const headers = bearer(other.session.access_token);
  const got = await call<{ session: { title: string } }>(
    gateway.baseUrl,
    'GET',
    `/api/v1/sessions/${other.conversationId}`,
    { headers },
  );
  expect([got.status, got.body.data?.session.title]).toEqual([200, 'private']);
  const messages = await call<{ messages: unknown[] }>(
    gateway.baseUrl,
    'GET',
    `/api/v1/sessions/${other.conversationId}/messages`,
    { headers },
  );
  expect(messages.body.data?.messages).toHaveLength(2); // the question and its sync reply
};

/** The other user's webhook endpoint is still there, enabled, with its description and one secret. */
const webhookIntact = async (other: Actor) => {
  const got = await call<{
    webhook: { description: string; enabled: boolean; previous_secret_expires_at: null };
  }>(gateway.baseUrl, 'GET', `/api/v1/webhooks/${other.webhookId}`, {
    headers: bearer(other.session.access_token),
  });
  expect([got.status, got.body.data?.webhook]).toEqual([
    200,
    expect.objectContaining({ description: 'private', enabled: true, previous_secret_expires_at: null }),
  ]);
};

/** The other user's connector is still there, enabled, with its name and its credential. */
const connectorIntact = async (other: Actor) => {
  const got = await call<{ connector: { name: string; enabled: boolean; has_credential: boolean } }>(
    gateway.baseUrl,
    'GET',
    `/api/v1/connectors/${other.connectorId}`,
    { headers: bearer(other.session.access_token) },
  );
  expect([got.status, got.body.data?.connector]).toEqual([
    200,
    expect.objectContaining({ name: 'private', enabled: true, has_credential: true }),
  ]);
};

const CASES: Record<string, RouteCase> = {
  // Take no input; a body with members is refused before anything happens (the session stays).
  'POST /api/v1/auth/logout': { body: {} },
  'POST /api/v1/auth/logout-all': { body: {} },
  'PATCH /api/v1/users/me': { body: { name: 'Renamed' } },
  'POST /api/v1/users/me/password': { body: { current_password: 'wrong', new_password: 'irrelevant' } },
  'POST /api/v1/api-keys': { body: { name: 'key', scopes: ['profile:read'] } },
  'DELETE /api/v1/api-keys/:id': {
    othersId: (other) => other.ownKeyId,
    intact: async (other) => {
      const listed = await call<{ api_keys: { id: string }[] }>(gateway.baseUrl, 'GET', '/api/v1/api-keys', {
        headers: bearer(other.session.access_token),
      });
      expect(listed.body.data!.api_keys.map((k) => k.id)).toContain(other.ownKeyId);
    },
  },
  // Conversations (context-service): another user's session id is a 404 on every route.
  'POST /api/v1/sessions': { body: { title: 'new' } },
  'GET /api/v1/sessions/:id': { othersId: (other) => other.conversationId, intact: conversationIntact },
  'PATCH /api/v1/sessions/:id': {
    body: { title: 'stolen' },
    othersId: (other) => other.conversationId,
    intact: conversationIntact,
  },
  'DELETE /api/v1/sessions/:id': { othersId: (other) => other.conversationId, intact: conversationIntact },
  'POST /api/v1/sessions/:id/messages': {
    body: { content: 'injected' },
    othersId: (other) => other.conversationId,
    intact: conversationIntact,
  },
  'GET /api/v1/sessions/:id/messages': {
    othersId: (other) => other.conversationId,
    intact: conversationIntact,
  },
  // Screenshots: multipart, not JSON (no member to smuggle; its parts are checked in attachments-api.test.ts).
  // The session is looked up first, so another user's is a 404 whatever the body.
  'POST /api/v1/sessions/:id/attachments': {
    noBody: true,
    othersId: (other) => other.conversationId,
    intact: conversationIntact,
  },
  'GET /api/v1/sessions/:id/attachments/:attachmentId': {
    othersId: (other) => other.conversationId,
    intact: conversationIntact,
  },
  'GET /api/v1/sessions/:id/attachments/:attachmentId/content': {
    othersId: (other) => other.conversationId,
    intact: conversationIntact,
  },
  // The model registry (admins only): no user owns a version or an alias, so there is no other
  // user's id to try; the admin scope is the check (a user's session: 403, above).
  'POST /api/v1/admin/models/versions': {
    body: {
      model: 'm',
      version: '1',
      provider_id: 'local',
      provider_model: 'x',
      capabilities: { vision: false, streaming: true, context_window: 1000, max_output_tokens: 100 },
      input_price_per_million: '0',
      output_price_per_million: '0',
    },
  },
  'PATCH /api/v1/admin/models/versions/:name': { body: { retires_at: null } },
  'PUT /api/v1/admin/models/aliases/:name': { body: { targets: [{ version: 'm@1', weight: 1 }] } },
  'DELETE /api/v1/admin/models/aliases/:name': {},
  // The caller's own event stream: no id and no body; whose events is the principal's (integration-service
  // reads the log of the principal only; event-stream-api.test.ts shows another user's never arrive).
  'GET /api/v1/events': {},
  // The OpenAI-compatible API: the catalogue is per caller but no model is a user's own.
  'GET /v1/models/:model': {},
  // Outbound webhooks (integration-service): another user's endpoint is a 404 on every route.
  'POST /api/v1/webhooks': { body: { url: 'https://hooks.example.com/', event_types: ['*'] } },
  'GET /api/v1/webhooks/:id': { othersId: (other) => other.webhookId, intact: webhookIntact },
  'PATCH /api/v1/webhooks/:id': {
    body: { description: 'stolen', enabled: false },
    othersId: (other) => other.webhookId,
    intact: webhookIntact,
  },
  'DELETE /api/v1/webhooks/:id': { othersId: (other) => other.webhookId, intact: webhookIntact },
  'POST /api/v1/webhooks/:id/rotate-secret': {
    body: {},
    othersId: (other) => other.webhookId,
    intact: webhookIntact,
  },
  'POST /api/v1/webhooks/:id/test': { body: {}, othersId: (other) => other.webhookId, intact: webhookIntact },
  'GET /api/v1/webhooks/:id/deliveries': { othersId: (other) => other.webhookId, intact: webhookIntact },
  'GET /api/v1/webhooks/:id/deliveries/:deliveryId': {
    othersId: (other) => other.webhookId,
    intact: webhookIntact,
  },
  'POST /api/v1/webhooks/:id/deliveries/:deliveryId/replay': {
    body: {},
    othersId: (other) => other.webhookId,
    intact: webhookIntact,
  },
  // Connectors (integration-service): another user's connector is a 404 on every route.
  'POST /api/v1/connectors': {
    body: { kind: 'http', name: 'mine', event_types: ['*'], settings: { url: 'https://hooks.example.com/' } },
  },
  'GET /api/v1/connectors/:id': { othersId: (other) => other.connectorId, intact: connectorIntact },
  'PATCH /api/v1/connectors/:id': {
    body: { name: 'stolen', credential: '', enabled: false },
    othersId: (other) => other.connectorId,
    intact: connectorIntact,
  },
  'DELETE /api/v1/connectors/:id': { othersId: (other) => other.connectorId, intact: connectorIntact },
  'POST /api/v1/connectors/:id/test': {
    body: {},
    othersId: (other) => other.connectorId,
    intact: connectorIntact,
  },
  'GET /api/v1/connectors/:id/deliveries': {
    othersId: (other) => other.connectorId,
    intact: connectorIntact,
  },
  'POST /v1/chat/completions': { body: { model: 'explainer', messages: [{ role: 'user', content: 'hi' }] } },
};

/** Fields only the server sets, on any resource. */
const SERVER_OWNED = ['id', 'user_id', 'roles', 'created_at', 'updated_at', 'last_used_at'];

const takesBody = (route: RouteEntry) => ['POST', 'PUT', 'PATCH'].includes(route.method);
const hasParams = (route: RouteEntry) => route.path.includes('/:');

// ---------------------------------------------------------------------------------------------------

let userService: UserServiceProcess | undefined;
let contextService: ContextServiceProcess | undefined;
let integrationService: IntegrationServiceProcess | undefined;
let ai: FakeAiGateway | undefined;
let gateway: RunningGateway;
let alice: Actor;
let bob: Actor;
/** An operator (ADMIN_EMAILS): the one who reaches the body checks of admin-only routes. */
const ADMIN = newCredentials('admin');
let adminSession: Session;
/** Alice's keys with one scope each: whatever a route needs, one of them lacks it. */
let narrowKeys: Record<string, string>;
/** Alice's key with every scope a user can hold. */
let fullKey: string;

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

async function newActor(): Promise<Actor> {
  const { status, body } = await register(gateway.baseUrl);
  expect(status).toBe(201);
  const session = body.data!;
  const key = await createKey(session, [SCOPES.explain]);
  const headers = bearer(session.access_token);
  const conversation = await call<{ session: { id: string } }>(gateway.baseUrl, 'POST', '/api/v1/sessions', {
    json: { title: 'private' },
    headers,
  });
  expect(conversation.status).toBe(201);
  const conversationId = conversation.body.data!.session.id;
  const posted = await call(gateway.baseUrl, 'POST', `/api/v1/sessions/${conversationId}/messages`, {
    json: { content: 'only mine' },
    headers,
  });
  expect(posted.status).toBe(201);
  const webhook = await call<{ webhook: { id: string } }>(gateway.baseUrl, 'POST', '/api/v1/webhooks', {
    json: { url: 'https://hooks.example.com/private', event_types: ['*'], description: 'private' },
    headers,
  });
  expect(webhook.status).toBe(201);
  const connector = await call<{ connector: { id: string } }>(gateway.baseUrl, 'POST', '/api/v1/connectors', {
    json: {
      kind: 'http',
      name: 'private',
      // A type these actors never cause: nothing is sent to the example host.
      event_types: ['ai.inference.failed'],
      settings: { url: 'https://hooks.example.com/private' },
      credential: 'Bearer private-token',
    },
    headers,
  });
  expect(connector.status).toBe(201);
  return {
    session,
    conversationId,
    ownKeyId: key.api_key.id,
    ownKeyPrefix: key.api_key.prefix,
    webhookId: webhook.body.data!.webhook.id,
    connectorId: connector.body.data!.connector.id,
  };
}

async function createKey(session: Session, scopes: string[]) {
  const { status, body } = await call<{ api_key: { id: string; prefix: string }; secret: string }>(
    gateway.baseUrl,
    'POST',
    '/api/v1/api-keys',
    {
      json: { name: `only ${scopes.join(' ')}`.slice(0, 100), scopes },
      headers: bearer(session.access_token),
    },
  );
  expect(status).toBe(201);
  return body.data!;
}

/** The concrete path: `:id`-style parameters filled with the given id (or a fresh UUID). */
const pathOf = (route: RouteEntry, id: string = randomUUID()) => route.path.replace(/:[A-Za-z_]+/g, id);

beforeAll(async () => {
  userService = await UserServiceProcess.create({ ADMIN_EMAILS: ADMIN.email });
  // Messages are answered (request routing): a fake AI gateway serves te.ai.v1 on loopback.
  ai = await startFakeAiGateway();
  contextService = await ContextServiceProcess.create({ AI_GATEWAY_SERVICE_ADDR: ai.address });
  integrationService = await IntegrationServiceProcess.create();
  await Promise.all([userService.start(), contextService.start(), integrationService.start()]);
  gateway = await startGateway(userService.address, {
    CONTEXT_SERVICE_ADDR: contextService.address,
    INTEGRATION_SERVICE_ADDR: integrationService.address,
  });
  alice = await newActor();
  bob = await newActor();
  const admin = await register(gateway.baseUrl, ADMIN);
  expect(admin.status).toBe(201);
  adminSession = admin.body.data!;
  narrowKeys = {
    [SCOPES.explain]: (await createKey(alice.session, [SCOPES.explain])).secret,
    [SCOPES.profileRead]: (await createKey(alice.session, [SCOPES.profileRead])).secret,
  };
  fullKey = (await createKey(alice.session, scopesForRoles(['user']))).secret;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
  await contextService?.dispose();
  await integrationService?.dispose();
  await ai?.stop();
}, 60_000);

describe('access control over every route of the gateway', () => {
  test('When the routes are listed, then every route under /api/v1 but sign-in declares the scope it needs', () => {
    expect(ROUTES.map((r) => r.key)).toEqual(expect.arrayContaining(['POST /api/v1/api-keys']));

    const undeclared = PROTECTED.filter((route) => !route.scopes?.length).map((route) => route.key);

    expect(undeclared).toEqual(SESSION_ONLY_ROUTES.filter((key) => ROUTES.some((r) => r.key === key)));
  });

  test('When a route takes an id or a body, then this file says how to test it (a new route cannot slip by)', () => {
    const missing = PROTECTED.filter((route) => (hasParams(route) || takesBody(route)) && !CASES[route.key]);

    expect(missing.map((route) => route.key)).toEqual([]);
  });

  test('When a route needs an admin scope, then no user session holds it', () => {
    for (const route of PROTECTED.filter((r) => r.scopes?.some((s) => s.startsWith('admin:')))) {
      expect(route.scopes!.every((scope) => (scopesForRoles(['user']) as string[]).includes(scope))).toBe(
        false,
      );
    }
  });

  describe.each(PROTECTED.map((route) => [route.key, route] as const))('%s', (_key, route) => {
    const routeCase = CASES[route.key] ?? {};

    test('When no credential is presented, then 401 in the envelope (OpenAI’s shape under /v1)', async () => {
      const response = await call(gateway.baseUrl, route.method, pathOf(route), {
        ...(takesBody(route) && !routeCase.noBody ? { json: routeCase.body ?? {} } : {}),
      });

      expect(response.status).toBe(401);
      expectRefusal(route, response.body, 'UNAUTHENTICATED');
    });

    if (SESSION_ONLY_ROUTES.includes(route.key)) {
      test('When an API key holding every scope of its owner is presented, then 403 (sessions only)', async () => {
        const response = await call(gateway.baseUrl, route.method, pathOf(route), {
          headers: { 'x-api-key': fullKey },
        });

        expect(response.status).toBe(403);
        expect(response.body.error?.code).toBe('FORBIDDEN');
      });
    } else {
      test("When an API key without the route's scope is presented, then 403 insufficient_scope", async () => {
        const needed = route.scopes ?? [];
        const lacking = Object.entries(narrowKeys).find(([scope]) => !needed.includes(scope as Scope))!;

        const response = await call(gateway.baseUrl, route.method, pathOf(route, alice.ownKeyId), {
          headers: { 'x-api-key': lacking[1] },
          ...(takesBody(route) && !routeCase.noBody ? { json: {} } : {}),
        });

        expect(response.status).toBe(403);
        expectRefusal(route, response.body, 'FORBIDDEN');
        expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      });
    }

    if (route.scopes?.some((scope) => scope.startsWith('admin:'))) {
      test("When a user's own session (no admin role) is presented, then 403", async () => {
        const response = await call(gateway.baseUrl, route.method, pathOf(route), {
          headers: bearer(alice.session.access_token),
        });

        expect(response.status).toBe(403);
      });
    }

    if (hasParams(route) && routeCase.othersId) {
      test("When another user's id is used, then 404 with nothing of theirs, and their resource is untouched", async () => {
        const response = await call(gateway.baseUrl, route.method, pathOf(route, routeCase.othersId!(bob)), {
          headers: bearer(alice.session.access_token),
          ...(takesBody(route) && routeCase.body ? { json: routeCase.body } : {}),
        });

        expect(response.status).toBe(404);
        expect(response.body.error?.code).toBe('NOT_FOUND');
        const text = JSON.stringify(response.body);
        for (const secret of [bob.session.user.id, bob.session.user.email, bob.ownKeyPrefix]) {
          expect(text).not.toContain(secret);
        }
        await routeCase.intact?.(bob);
      });
    }

    if (takesBody(route) && !routeCase.noBody) {
      test('When the body sets server-owned fields, then 400 names each of them', async () => {
        // Admin-only routes refuse a user before reading the body: an operator's session gets that far.
        const needsAdmin = route.scopes?.some((scope) => scope.startsWith('admin:'));
        const response = await call(gateway.baseUrl, route.method, pathOf(route, alice.ownKeyId), {
          headers: bearer((needsAdmin ? adminSession : alice.session).access_token),
          json: {
            ...routeCase.body,
            ...Object.fromEntries(
              SERVER_OWNED.map((field) => [field, field === 'roles' ? ['admin'] : randomUUID()]),
            ),
          },
        });

        expect(response.status).toBe(400);
        if (isOpenAi(route)) {
          // OpenAI's shape has one `param`; the message names every unrecognized member.
          const { error } = response.body as unknown as { error: { type: string; message: string } };
          expect(error.type).toBe('invalid_request_error');
          for (const field of SERVER_OWNED) expect(error.message).toContain(field);
          return;
        }
        expect(response.body.error?.code).toBe('VALIDATION_FAILED');
        expect(response.body.error?.fields).toEqual(
          expect.arrayContaining(SERVER_OWNED.map((field) => ({ field, message: 'is not allowed' }))),
        );
      });
    }
  });
});
