import { randomUUID } from 'node:crypto';
import { captureLogger, type CapturedLogger } from '@te/platform';
import { waitFor } from '@te/testing';
import { createGatewayApp, type GatewayApp } from '../../src/app.js';
import { loadGatewayConfig } from '../../src/config.js';
import { JWT_AUDIENCE, JWT_ISSUER } from './user-service.process.js';

export const ALLOWED_ORIGIN = 'https://app.gateway-tests.te.local';

export interface RunningGateway {
  app: GatewayApp;
  /** http://127.0.0.1:<public port> */
  baseUrl: string;
  /** http://127.0.0.1:<ops port> */
  opsUrl: string;
  /** Everything the gateway logged (real JSON format, debug level). */
  logs: CapturedLogger;
  stop(): Promise<void>;
}

/**
 * The gateway in this process, on free ports, talking to the given user-service address. Like a
 * deployment, tests send traffic only once it is ready: its first key load may have failed on a
 * loaded machine (it then loads the keys on the next readiness check).
 */
export async function startGateway(
  userServiceAddress: string,
  overrides: Record<string, string> = {},
  options: { waitUntilReady?: boolean } = {},
): Promise<RunningGateway> {
  const logs = captureLogger('api-gateway', 'debug');
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    OPS_PORT: '0',
    USER_SERVICE_ADDR: userServiceAddress,
    CORS_ORIGINS: ALLOWED_ORIGIN,
    JWT_ISSUER,
    JWT_AUDIENCE,
    ...overrides,
  });
  const app = createGatewayApp(config, { logger: logs.logger });
  const { httpPort, opsPort } = await app.start();
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  if (options.waitUntilReady ?? true) {
    await waitFor(
      async () => (await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(10_000) })).status === 200,
      { timeoutMs: 60_000, intervalMs: 200, description: 'the gateway to be ready' },
    ).catch(async (error: unknown) => {
      await app.stop();
      throw error;
    });
  }
  return {
    app,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    opsUrl,
    logs,
    stop: () => app.stop(),
  };
}

export interface Envelope<T = Record<string, unknown>> {
  success: boolean;
  data: T | null;
  error: { code: string; message: string; fields?: { field: string; message: string }[] } | null;
  metadata: { timestamp: string; request_id: string };
}

export interface Session {
  user: { id: string; email: string; name: string; roles: string[]; created_at: string };
  access_token: string;
  token_type: string;
  expires_in: number;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: Envelope<T>;
}

/** A JSON call to the gateway; the body is parsed as the envelope. */
export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  options: { json?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.rawBody;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let parsed: Envelope<T>;
  try {
    parsed = JSON.parse(text) as Envelope<T>;
  } catch {
    throw new Error(
      `${method} ${path} answered ${response.status} with a non-JSON body: ${text.slice(0, 200)}`,
    );
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Credentials no other test (or run) uses. */
export function newCredentials(label = 'user') {
  const id = randomUUID().slice(0, 8);
  return {
    email: `${label}.${id}@example.com`,
    password: `pw-${randomUUID()}`,
    name: `Test ${label} ${id}`,
  };
}

export async function register(
  baseUrl: string,
  credentials = newCredentials(),
  headers: Record<string, string> = {},
): Promise<ApiResponse<Session> & { credentials: typeof credentials }> {
  const response = await call<Session>(baseUrl, 'POST', '/api/v1/auth/register', {
    json: credentials,
    headers,
  });
  return { ...response, credentials };
}
