import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is calling, as established by the gateway and carried to every service in gRPC metadata. */
export interface Principal {
  userId: string;
  roles: string[];
  scopes: string[];
  /** How the caller authenticated: 'jwt', 'api_key', ... */
  authMethod?: string;
}

export interface RequestContext {
  requestId: string;
  principal?: Principal;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function getRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
