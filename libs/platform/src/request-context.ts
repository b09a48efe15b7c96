import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is calling, as established by the gateway and carried to every service in gRPC metadata. */
export interface Principal {
  userId: string;
  roles: string[];
  scopes: string[];
  /** How the caller authenticated: 'jwt', 'api_key', ... */
  authMethod?: string;
  /** The sign-in session (refresh-token family) an access token belongs to. */
  sessionId?: string;
  /** The API key used, when authMethod is 'api_key'. */
  apiKeyId?: string;
}

/** Who is at the other end of the public connection, as the gateway saw it (for audit and throttling). */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface RequestContext {
  requestId: string;
  principal?: Principal;
  client?: ClientInfo;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function getRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
