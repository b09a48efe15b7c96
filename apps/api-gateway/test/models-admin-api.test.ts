import { SCOPES } from '@te/platform';
import { AiGatewayServiceProcess } from './support/ai-gateway-service.process.js';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
} from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// End to end over real HTTP and gRPC: an operator (ADMIN_EMAILS in the built user-service) changes the
// model registry of the built ai-gateway-service process through /api/v1/admin/models, and a normal
// user's GET /api/v1/models follows.

interface VersionBody {
  name: string;
  provider_id: string;
  parameters: Record<string, unknown>;
  capabilities: { vision: boolean; streaming: boolean; context_window: number; max_output_tokens: number };
  input_price_per_million: string;
  output_price_per_million: string;
  deprecated_at: string | null;
  retires_at: string | null;
  created_at: string;
  status: string;
  provider_configured: boolean;
}
interface AliasBody {
  name: string;
  targets: { version: string; weight: number }[];
  created_at: string;
  updated_at: string;
}
interface ModelBody {
  name: string;
  kind: string;
  capabilities: { context_window: number };
}

const ADMIN = newCredentials('admin');
const NEW_VERSION = {
  model: 'local-explainer',
  version: '2',
  provider_id: 'local',
  provider_model: 'extractive-v2',
  parameters: { temperature: 0.2 },
  capabilities: { vision: false, streaming: true, context_window: 16_000, max_output_tokens: 2_000 },
  input_price_per_million: '0.15',
  output_price_per_million: '0.6',
};

let userService: UserServiceProcess | undefined;
let aiGateway: AiGatewayServiceProcess | undefined;
let gateway: RunningGateway;
let adminHeaders: Record<string, string>;
let userHeaders: Record<string, string>;

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const admin = <T>(method: string, path: string, json?: unknown) =>
  call<T>(gateway.baseUrl, method, `/api/v1/admin/models${path}`, {
    headers: adminHeaders,
    ...(json !== undefined && { json }),
  });
const userModels = async () => {
  const response = await call<{ models: ModelBody[] }>(gateway.baseUrl, 'GET', '/api/v1/models', {
    headers: userHeaders,
  });
  expect(response.status).toBe(200);
  return response.body.data!.models;
};
const fieldsOf = (response: { body: { error?: { fields?: { field: string }[] } | null } }) =>
  (response.body.error?.fields ?? []).map((field) => field.field);

beforeAll(async () => {
  userService = await UserServiceProcess.create({ ADMIN_EMAILS: ADMIN.email });
  aiGateway = await AiGatewayServiceProcess.create();
  await Promise.all([userService.start(), aiGateway.start()]);
  gateway = await startGateway(userService.address, { AI_GATEWAY_SERVICE_ADDR: aiGateway.address });
  const operator = await register(gateway.baseUrl, ADMIN);
  const user = await register(gateway.baseUrl);
  expect([operator.status, user.status]).toEqual([201, 201]);
  expect(operator.body.data!.user.roles).toContain('admin');
  adminHeaders = bearer(operator.body.data!.access_token);
  userHeaders = bearer(user.body.data!.access_token);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
  await aiGateway?.dispose();
}, 60_000);

describe('/api/v1/admin/models', () => {
  test('When a normal user or a read-only admin key tries the admin routes, then 403 insufficient_scope and nothing changes', async () => {
    const attempts = [
      ['GET', '/versions', undefined],
      ['POST', '/versions', { ...NEW_VERSION, version: 'sneaky' }],
      ['PATCH', '/versions/local-explainer@1', { retires_at: '2020-01-01T00:00:00Z' }],
      ['GET', '/aliases', undefined],
      ['PUT', '/aliases/explainer', { targets: [{ version: 'local-explainer@1', weight: 1 }] }],
      ['DELETE', '/aliases/explainer@stable', undefined],
    ] as const;
    for (const [method, path, json] of attempts) {
      const response = await call(gateway.baseUrl, method, `/api/v1/admin/models${path}`, {
        headers: userHeaders,
        ...(json && { json }),
      });
      expect([method, path, response.status, response.body.error?.code]).toEqual([
        method,
        path,
        403,
        'FORBIDDEN',
      ]);
      expect(response.headers.get('www-authenticate')).toContain('insufficient_scope');
    }

    const key = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
      json: { name: 'registry reader', scopes: [SCOPES.adminModelsRead] },
      headers: adminHeaders,
    });
    expect(key.status).toBe(201);
    const readOnly = { 'x-api-key': key.body.data!.secret };
    const listed = await call<{ versions: VersionBody[] }>(
      gateway.baseUrl,
      'GET',
      '/api/v1/admin/models/versions',
      { headers: readOnly },
    );
    expect(listed.status).toBe(200);
    const moved = await call(gateway.baseUrl, 'PUT', '/api/v1/admin/models/aliases/explainer', {
      headers: readOnly,
      json: { targets: [{ version: 'local-explainer@1', weight: 1 }] },
    });
    expect(moved.headers.get('www-authenticate')).toContain('scope="admin:models:write"');
    expect(moved.status).toBe(403);

    expect((await userModels()).map((model) => model.name).sort()).toEqual([
      'explainer',
      'explainer@stable',
      'local-explainer@1',
    ]);
  });

  test('When an admin creates a version and moves "explainer" to it, then a normal user lists it at once', async () => {
    const created = await admin<{ version: VersionBody }>('POST', '/versions', NEW_VERSION);

    expect(created.status).toBe(201);
    expect(created.body.data!.version).toEqual({
      ...NEW_VERSION,
      name: 'local-explainer@2',
      input_price_per_million: '0.150000',
      output_price_per_million: '0.600000',
      deprecated_at: null,
      retires_at: null,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      status: 'active',
      provider_configured: true,
    });
    const versions = await admin<{ versions: VersionBody[] }>('GET', '/versions');
    expect(
      versions.body.data!.versions.map((version) => [version.name, version.input_price_per_million]),
    ).toEqual([
      ['local-explainer@1', '0.000000'],
      ['local-explainer@2', '0.150000'],
    ]);

    const moved = await admin<{ alias: AliasBody }>('PUT', '/aliases/explainer', {
      targets: [
        { version: 'local-explainer@2', weight: 9_000 },
        { version: 'local-explainer@1', weight: 1_000 },
      ],
    });

    expect(moved.status).toBe(200);
    expect(moved.body.data!.alias).toMatchObject({
      name: 'explainer',
      targets: [
        { version: 'local-explainer@2', weight: 9_000 },
        { version: 'local-explainer@1', weight: 1_000 },
      ],
    });
    const models = await userModels();
    expect(models.map((model) => model.name)).toContain('local-explainer@2');
    // An alias promises what all its targets can do: now the new version's smaller window.
    expect(models.find((model) => model.name === 'explainer')?.capabilities.context_window).toBe(16_000);
    const aliases = await admin<{ aliases: AliasBody[] }>('GET', '/aliases');
    expect(aliases.body.data!.aliases.map((alias) => alias.name)).toEqual(['explainer', 'explainer@stable']);
  });

  test('When an admin puts a new alias, then 201; retiring its version hides both from users; deleting it is 204', async () => {
    const created = await admin<{ alias: AliasBody }>('PUT', '/aliases/trial', {
      targets: [{ version: 'local-explainer@2', weight: 1 }],
    });
    expect(created.status).toBe(201);
    expect((await userModels()).map((model) => model.name)).toContain('trial');

    const retiresAt = new Date(Date.now() - 60_000).toISOString();
    const retired = await admin<{ version: VersionBody }>('PATCH', '/versions/local-explainer@2', {
      deprecated_at: '2020-01-01T00:00:00Z',
      retires_at: retiresAt,
    });
    expect(retired.status).toBe(200);
    expect(retired.body.data!.version).toMatchObject({
      deprecated_at: '2020-01-01T00:00:00.000Z',
      retires_at: retiresAt,
      status: 'retired',
    });
    let names = (await userModels()).map((model) => model.name);
    expect(names).not.toContain('local-explainer@2');
    expect(names).not.toContain('trial');
    // "explainer" keeps its other target, with what that one can do.
    expect(
      (await userModels()).find((model) => model.name === 'explainer')?.capabilities.context_window,
    ).toBe(32_768);

    const cleared = await admin<{ version: VersionBody }>('PATCH', '/versions/local-explainer@2', {
      retires_at: null,
    });
    expect(cleared.body.data!.version).toMatchObject({
      deprecated_at: '2020-01-01T00:00:00.000Z',
      retires_at: null,
      status: 'deprecated',
    });

    // 204 has no body (the harness's `call` expects JSON).
    const deleted = await fetch(`${gateway.baseUrl}/api/v1/admin/models/aliases/trial`, {
      method: 'DELETE',
      headers: adminHeaders,
    });
    expect([deleted.status, await deleted.text()]).toEqual([204, '']);
    names = (await userModels()).map((model) => model.name);
    expect(names).not.toContain('trial');
    expect(names).toContain('local-explainer@2');
  });

  test('When bodies are bad, then 400 in the envelope naming the fields, at the gateway or from the service', async () => {
    const shape = await admin('POST', '/versions', {
      ...NEW_VERSION,
      version: '3',
      input_price_per_million: 0.15,
      capabilities: { ...NEW_VERSION.capabilities, context_window: 0 },
      parameters: [1],
      owner: 'me',
    });
    expect(shape.status).toBe(400);
    expect(shape.body).toMatchObject({ success: false, data: null, error: { code: 'VALIDATION_FAILED' } });
    expect(fieldsOf(shape).sort()).toEqual(
      ['capabilities.context_window', 'input_price_per_million', 'owner', 'parameters'].sort(),
    );
    const noCapabilities = await admin('POST', '/versions', { ...NEW_VERSION, capabilities: undefined });
    expect(fieldsOf(noCapabilities)).toEqual(['capabilities']);

    const service = await admin('POST', '/versions', {
      ...NEW_VERSION,
      model: 'Local Explainer',
      output_price_per_million: '1.0000001',
      retires_at: '2026-02-30T00:00:00Z',
    });
    expect([service.status, service.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(fieldsOf(service)).toEqual(['retires_at']); // the service checks dates first, then the rest
    const names = await admin('POST', '/versions', { ...NEW_VERSION, model: 'Local Explainer' });
    expect(fieldsOf(names)).toEqual(['model']);

    const empty = await admin('PATCH', '/versions/local-explainer@1', {});
    expect([empty.status, fieldsOf(empty)]).toEqual([400, ['(body)']]);
    const badDate = await admin('PATCH', '/versions/local-explainer@1', { retires_at: 'soon' });
    expect([badDate.status, fieldsOf(badDate)]).toEqual([400, ['retires_at']]);

    const weights = await admin('PUT', '/aliases/explainer', {
      targets: [
        { version: 'local-explainer@1', weight: 10_001 },
        { version: 'local-explainer@2', weight: 1.5 },
      ],
    });
    expect([weights.status, fieldsOf(weights)]).toEqual([400, ['targets.0.weight', 'targets.1.weight']]);
    const none = await admin('PUT', '/aliases/explainer', { targets: [] });
    expect([none.status, fieldsOf(none)]).toEqual([400, ['targets']]);
    const tooMany = await admin('PUT', '/aliases/explainer', {
      targets: Array.from({ length: 11 }, (_, index) => ({ version: `local-explainer@${index}`, weight: 1 })),
    });
    expect([tooMany.status, fieldsOf(tooMany)]).toEqual([400, ['targets']]);
    const drained = await admin('PUT', '/aliases/explainer', {
      targets: [{ version: 'local-explainer@1', weight: 0 }],
    });
    expect([drained.status, fieldsOf(drained)]).toEqual([400, ['targets']]);
    const unknownVersion = await admin('PUT', '/aliases/explainer', {
      targets: [{ version: 'local-explainer@9', weight: 1 }],
    });
    expect([unknownVersion.status, fieldsOf(unknownVersion)]).toEqual([400, ['targets[0].version']]);

    const notJson = await call(gateway.baseUrl, 'POST', '/api/v1/admin/models/versions', {
      headers: { ...adminHeaders, 'content-type': 'text/plain' },
      rawBody: 'model=x',
    });
    expect(notJson.status).toBe(415);

    // Nothing of it was written.
    const aliases = await admin<{ aliases: AliasBody[] }>('GET', '/aliases');
    expect(aliases.body.data!.aliases.find((alias) => alias.name === 'explainer')?.targets).toEqual([
      { version: 'local-explainer@2', weight: 9_000 },
      { version: 'local-explainer@1', weight: 1_000 },
    ]);
    const versions = await admin<{ versions: VersionBody[] }>('GET', '/versions');
    expect(versions.body.data!.versions).toHaveLength(2);
  });

  test('When names are unknown or taken, then 404 and 409; the default aliases cannot be deleted', async () => {
    const unknownVersion = await admin('PATCH', '/versions/nope@1', { retires_at: null });
    expect([unknownVersion.status, unknownVersion.body.error?.code]).toEqual([404, 'NOT_FOUND']);
    const unknownAlias = await call(gateway.baseUrl, 'DELETE', '/api/v1/admin/models/aliases/nope', {
      headers: adminHeaders,
    });
    expect([unknownAlias.status, unknownAlias.body.error?.code]).toEqual([404, 'NOT_FOUND']);

    const taken = await admin('POST', '/versions', NEW_VERSION);
    expect([taken.status, taken.body.error?.code]).toEqual([409, 'CONFLICT']);
    const aliasOverVersion = await admin('PUT', '/aliases/local-explainer@1', {
      targets: [{ version: 'local-explainer@2', weight: 1 }],
    });
    expect([aliasOverVersion.status, aliasOverVersion.body.error?.code]).toEqual([409, 'CONFLICT']);

    const seeded = await call(gateway.baseUrl, 'DELETE', '/api/v1/admin/models/aliases/explainer', {
      headers: adminHeaders,
    });
    expect([seeded.status, seeded.body.error?.code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await userModels()).map((model) => model.name)).toContain('explainer');
  });
});
