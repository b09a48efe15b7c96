import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metadata } from '@grpc/grpc-js';
import type { ClientInfo, Principal } from '@te/platform';

/** What a handler knows about the call besides the request message. */
export interface CallContext {
  /** From `x-request-id`, or generated when the caller sent none. Also in getRequestContext(). */
  requestId: string;
  /** From `x-te-principal` (set by the gateway after verifying the caller). Also in getRequestContext(). */
  principal?: Principal;
  /** The public client (IP, user agent) the gateway served, when the call stems from one. */
  client?: ClientInfo;
  /** The caller's deadline; outgoing calls made inside the handler inherit it (see grpc-client.ts). */
  deadline?: Date;
  /** The raw request metadata. */
  metadata: Metadata;
  /** Aborted when the call is cancelled or its deadline passes: stop work nobody will read. */
  signal: AbortSignal;
}

// The deadline of the call being handled, so a client call made inside a handler never outlives it
// (deadline propagation without threading the call object through the domain).
const inboundCall = new AsyncLocalStorage<{ deadline?: Date }>();

export function runInInboundCall<T>(call: { deadline?: Date }, fn: () => T): T {
  return inboundCall.run(call, fn);
}

export function inboundDeadline(): Date | undefined {
  return inboundCall.getStore()?.deadline;
}
