import { randomBytes } from 'node:crypto';

/** The public API's response shape (apps/api-gateway/src/http/envelope.ts), as a client sees it. */
export interface Envelope<T> {
  success: boolean;
  data: T | null;
  error: { code: string; message: string; fields?: { field: string; message: string }[] } | null;
  metadata: { timestamp: string; request_id: string };
}

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  roles: string[];
  created_at: string;
}

export interface Session {
  user: PublicUser;
  access_token: string;
  token_type: string;
  expires_in: number;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: Envelope<T>;
}

/** One real HTTP call with fetch; the body is parsed as the envelope. */
export async function callApi<T>(
  url: string,
  options: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: Envelope<T>;
  try {
    body = JSON.parse(text) as Envelope<T>;
  } catch {
    throw new Error(`${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 500)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

/** A fresh account for one test: a unique address (lower-case) and a password that passes the policy. */
export function newAccount(label: string): { email: string; password: string; name: string } {
  const unique = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  return {
    email: `e2e.${label}.${unique}@example.com`,
    password: `correct horse ${randomBytes(6).toString('base64url')} staple`,
    name: `E2E ${label}`,
  };
}

/** A W3C traceparent (https://www.w3.org/TR/trace-context/#traceparent-header) with fresh ids. */
export function newTraceparent(): { traceparent: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}

export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The trace id of a traceparent, or undefined when it is not one. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  return TRACEPARENT.exec(traceparent ?? '')?.[1];
}

/** The envelope's data of a successful answer (fails the test with the envelope otherwise). */
export function dataOf<T>(response: ApiResponse<T>): T {
  if (!response.body.success || response.body.data === null) {
    throw new Error(`expected data, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body.data;
}

/** The X-Request-Id the gateway answered with (it always sets one). */
export function requestIdOf(response: ApiResponse<unknown>): string {
  const requestId = response.headers.get('x-request-id');
  if (!requestId) throw new Error(`no X-Request-Id in the answer (${response.status})`);
  return requestId;
}
