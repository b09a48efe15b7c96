import { SCOPES } from '@te/platform';
import { AiGatewayServiceProcess } from './support/ai-gateway-service.process.js';
import { call, register, startGateway, type RunningGateway } from './support/gateway.harness.js';
import { UserServiceProcess } from './support/user-service.process.js';

// End to end over real HTTP and gRPC: the gateway → the built ai-gateway-service process (its own
// database, seeded with the local provider's model) serves GET /api/v1/models for the caller.

interface ModelBody {
  name: string;
  kind: string;
  capabilities: { vision: boolean; streaming: boolean; context_window: number; max_output_tokens: number };
  deprecated_at: string | null;
  retires_at: string | null;
}

let userService: UserServiceProcess | undefined;
let aiGateway: AiGatewayServiceProcess | undefined;
let gateway: RunningGateway;
let accessToken: string;

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  aiGateway = await AiGatewayServiceProcess.create();
  await Promise.all([userService.start(), aiGateway.start()]);
  gateway = await startGateway(userService.address, { AI_GATEWAY_SERVICE_ADDR: aiGateway.address });
  const registered = await register(gateway.baseUrl);
  expect(registered.status).toBe(201);
  accessToken = registered.body.data!.access_token;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await userService?.dispose();
  await aiGateway?.dispose();
}, 60_000);

describe('GET /api/v1/models', () => {
  test('When a signed-in user lists models, then every seeded alias and version comes back in snake_case', async () => {
    const response = await call<{ models: ModelBody[] }>(gateway.baseUrl, 'GET', '/api/v1/models', {
      headers: bearer(accessToken),
    });

    expect(response.status).toBe(200);
    const models = response.body.data!.models;
    expect(models.map((m) => m.name).sort()).toEqual(['explainer', 'explainer@stable', 'local-explainer@1']);
    expect(models.find((m) => m.name === 'local-explainer@1')).toEqual({
      name: 'local-explainer@1',
      kind: 'version',
      capabilities: { vision: false, streaming: true, context_window: 32_768, max_output_tokens: 4_096 },
      deprecated_at: null,
      retires_at: null,
    });
    expect(models.find((m) => m.name === 'explainer')).toMatchObject({
      kind: 'alias',
      capabilities: { streaming: true, context_window: 32_768 },
    });
  });

  test('When an API key with only the explain scope lists models, then 200 with the same list', async () => {
    const created = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
      json: { name: 'explain only', scopes: [SCOPES.explain] },
      headers: bearer(accessToken),
    });
    expect(created.status).toBe(201);

    const response = await call<{ models: ModelBody[] }>(gateway.baseUrl, 'GET', '/api/v1/models', {
      headers: { 'x-api-key': created.body.data!.secret },
    });

    expect(response.status).toBe(200);
    expect(response.body.data!.models.map((m) => m.name)).toContain('explainer');
  });

  test('When an unknown query parameter is sent, then 400 names it', async () => {
    const response = await call(gateway.baseUrl, 'GET', '/api/v1/models?kind=alias', {
      headers: bearer(accessToken),
    });

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'kind', message: 'is not allowed' }],
    });
  });

  test('When ai-gateway-service cannot be reached, then 503 in the envelope, not a hang', async () => {
    const unreachable = await startGateway(userService!.address, {
      AI_GATEWAY_SERVICE_ADDR: '127.0.0.1:1',
      GRPC_DEADLINE_MS: '2000',
    });
    try {
      const response = await call(unreachable.baseUrl, 'GET', '/api/v1/models', {
        headers: bearer(accessToken),
      });

      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ success: false, error: { code: 'UNAVAILABLE' } });
    } finally {
      await unreachable.stop();
    }
  }, 30_000);
});
