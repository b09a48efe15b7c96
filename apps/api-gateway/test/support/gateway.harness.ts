import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { captureLogger, type CapturedLogger } from '@te/platform';
import { startFakeAiGateway, testAmqp, testRedisPrefix, waitFor, type FakeAiGateway } from '@te/testing';
import { createGatewayApp, type GatewayApp } from '../../src/app.js';
import { SESSION_REVOCATIONS_QUEUE } from '../../src/auth/session-revoked.consumer.js';
import { loadGatewayConfig } from '../../src/config.js';
import { ContextServiceProcess } from './context-service.process.js';
import { JWT_AUDIENCE, JWT_ISSUER, UserServiceProcess } from './user-service.process.js';

export const ALLOWED_ORIGIN = 'https://app.gateway-tests.te.local';

/** Edge rate limits no ordinary test reaches (decision 0023-gateway-edge). */
export const GENEROUS_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['AUTH', 'UPLOAD', 'INFERENCE', 'DEFAULT', 'IP'].flatMap((name) => [
    [`RATE_LIMIT_${name}_PER_MINUTE`, '100000'],
    [`RATE_LIMIT_${name}_BURST`, '10000'],
  ]),
);

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
 * The gateway in this process, on free ports, talking to the given user-service address, on this run's
 * Redis prefix and exchange (user-service's `session.revoked` events reach it). Each gateway gets its
 * own queue (removed when it stops), so several gateways of one test never share or delete one another's.
 * Like a deployment, tests send traffic only once it is ready: its first key load may have failed on
 * a loaded machine (it then loads the keys on the next readiness check).
 */
export async function startGateway(
  userServiceAddress: string,
  overrides: Record<string, string> = {},
  options: { waitUntilReady?: boolean } = {},
): Promise<RunningGateway> {
  const logs = captureLogger('api-gateway', 'debug');
  const amqp = testAmqp();
  const queuePrefix = `${amqp.queuePrefix}gw-${randomUUID().slice(0, 8)}.`;
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
    REDIS_URL: process.env['REDIS_URL'] || 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `${testRedisPrefix().prefix}gateway:`,
    AMQP_URL: amqp.url,
    AMQP_EXCHANGE: amqp.exchange,
    AMQP_QUEUE_PREFIX: queuePrefix,
    // Every test file sends all its traffic from 127.0.0.1: the edge limits stay out of the way unless a
    // test (rate-limits.test.ts) sets its own.
    ...GENEROUS_RATE_LIMITS,
    ...overrides,
  });
  const app = createGatewayApp(config, { logger: logs.logger });
  const removeQueue = () => deleteQueues(amqp.url, `${queuePrefix}${SESSION_REVOCATIONS_QUEUE}`);
  const stop = async () => {
    try {
      await app.stop();
    } finally {
      await removeQueue();
    }
  };
  const { httpPort, opsPort } = await app.start();
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  if (options.waitUntilReady ?? true) {
    await waitFor(
      async () => (await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(10_000) })).status === 200,
      { timeoutMs: 60_000, intervalMs: 200, description: 'the gateway to be ready' },
    ).catch(async (error: unknown) => {
      await stop();
      throw error;
    });
  }
  return {
    app,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    opsUrl,
    logs,
    stop,
  };
}

/** Deletes a consumer's queue with its retry and dead-letter queues (deleting a missing queue is a no-op). */
async function deleteQueues(url: string, queue: string): Promise<void> {
  const connection = await connect(url, { timeout: 10_000 });
  try {
    const channel = await connection.createChannel();
    for (const name of [queue, `${queue}.dlq`, ...[1, 2, 3, 4, 5].map((n) => `${queue}.retry.${n}`)]) {
      await channel.deleteQueue(name);
    }
  } finally {
    await connection.close();
  }
}

export interface Envelope<T = Record<string, unknown>> {
  success: boolean;
  data: T | null;
  error: { code: string; message: string; fields?: { field: string; message: string }[] } | null;
  metadata: { timestamp: string; request_id: string };
}

export interface Session {
  user: {
    id: string;
    email: string;
    name: string;
    roles: string[];
    locale: string;
    preferences: Record<string, unknown>;
    created_at: string;
  };
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  session_id: string;
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

export interface MessagingStack {
  /** The fake AI gateway (te.ai.v1 on loopback) context-service answers with. */
  ai: FakeAiGateway;
  userService: UserServiceProcess;
  contextService: ContextServiceProcess;
  gateway: RunningGateway;
  /** The access token of a user registered through the gateway. */
  token: string;
  /** Stops the gateway, the two processes and the fake AI gateway. */
  stop(): Promise<void>;
}

/**
 * The gateway in this process → real user-service and context-service processes → a fake AI gateway
 * on loopback, with one registered user. On a failed start, whatever was started is stopped.
 */
export async function startMessagingStack(): Promise<MessagingStack> {
  let ai: FakeAiGateway | undefined;
  let userService: UserServiceProcess | undefined;
  let contextService: ContextServiceProcess | undefined;
  let gateway: RunningGateway | undefined;
  const stop = async () => {
    await gateway?.stop();
    await userService?.dispose();
    await contextService?.dispose();
    await ai?.stop();
  };
  try {
    ai = await startFakeAiGateway();
    userService = await UserServiceProcess.create();
    contextService = await ContextServiceProcess.create({ AI_GATEWAY_SERVICE_ADDR: ai.address });
    await Promise.all([userService.start(), contextService.start()]);
    gateway = await startGateway(userService.address, { CONTEXT_SERVICE_ADDR: contextService.address });
    const token = (await register(gateway.baseUrl)).body.data!.access_token;
    return { ai, userService, contextService, gateway, token, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
