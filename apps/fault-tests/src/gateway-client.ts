import { randomUUID } from 'node:crypto';
import type { FaultService } from './fault-service.js';

/** Edge rate limits none of these scenarios reaches unless it means to (api-gateway, decision 0023-gateway-edge). */
export const GENEROUS_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['AUTH', 'UPLOAD', 'INFERENCE', 'DEFAULT', 'IP'].flatMap((name) => [
    [`RATE_LIMIT_${name}_PER_MINUTE`, '100000'],
    [`RATE_LIMIT_${name}_BURST`, '10000'],
  ]),
);

/** Upstreams a scenario does not run: a closed port, so nothing else on the machine answers for them. */
export const NO_SERVICE = '127.0.0.1:1';

/** The gateway's environment in front of the given user-service (and integration-service). */
export function gatewayEnv(upstreams: { users: string; integrations?: string }): Record<string, string> {
  return {
    USER_SERVICE_ADDR: upstreams.users,
    INTEGRATION_SERVICE_ADDR: upstreams.integrations ?? NO_SERVICE,
    CONTEXT_SERVICE_ADDR: NO_SERVICE,
    AI_GATEWAY_SERVICE_ADDR: NO_SERVICE,
    ...GENEROUS_RATE_LIMITS,
  };
}

export interface Answer<T = unknown> {
  status: number;
  body: { success?: boolean; data?: T; error?: { code: string; message: string } };
  headers: Headers;
  /** Wall time from sending to the whole body read. */
  ms: number;
  /** Set when no HTTP answer came (connection refused or reset). */
  networkError?: string;
}

/** One request to the gateway's public API; a network failure is an answer too (status 0). */
export async function call<T = unknown>(
  gateway: FaultService,
  method: string,
  path: string,
  options: { json?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer<T>> {
  const started = performance.now();
  try {
    const response = await fetch(`http://127.0.0.1:${gateway.httpPort}${path}`, {
      method,
      headers: {
        ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let body: Answer<T>['body'] = {};
    try {
      body = text ? (JSON.parse(text) as Answer<T>['body']) : {};
    } catch {
      body = {};
    }
    return { status: response.status, body, headers: response.headers, ms: performance.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return {
      status: 0,
      body: {},
      headers: new Headers(),
      ms: performance.now() - started,
      networkError: cause?.code ?? (error as Error).name,
    };
  }
}

export interface SignedUp {
  userId: string;
  email: string;
  password: string;
  /** `{ authorization: 'Bearer …' }` */
  auth: Record<string, string>;
}

/** POST /api/v1/auth/register through the gateway (the whole path: argon2, the user row, its outbox row). */
export async function signUp(gateway: FaultService, label: string): Promise<SignedUp> {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.test`;
  const password = `fault ${label} password 42!`;
  const answer = await call<{ user: { id: string }; access_token: string }>(
    gateway,
    'POST',
    '/api/v1/auth/register',
    { json: { email, password, name: `Fault ${label}` } },
  );
  if (answer.status !== 201 || !answer.body.data)
    throw new Error(`register ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return {
    userId: answer.body.data.user.id,
    email,
    password,
    auth: { authorization: `Bearer ${answer.body.data.access_token}` },
  };
}
