import {
  Metadata,
  credentials as channelCredentials,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { AppError, type Logger, type Metrics } from '@te/platform';
import { clientInterceptor } from './client-interceptor.js';
import { fromGrpcError } from './error-mapping.js';
import { CLIENT_OPTIONS } from './keepalive.js';
import { parseMethodPath } from './method-path.js';
import type { ClientConstructor, RequestOf, ResponseOf, UnaryMethodName } from './service-types.js';

export interface GrpcClientOptions {
  logger: Logger;
  metrics: Metrics;
  /** Deadline of calls that set none (default 5000 ms). */
  deadlineMs?: number;
  /** Plaintext by default (in-cluster). */
  credentials?: ChannelCredentials;
  /** Merged over the keepalive defaults (keepalive.ts). */
  channelOptions?: ChannelOptions;
}

/** A client of a generated service, e.g. `createGrpcClient(loadProtos().te.user.v1.UserService, addr, deps)`. */
export function createGrpcClient<C extends Client>(
  ClientCtor: ClientConstructor<C>,
  address: string,
  options: GrpcClientOptions,
): C {
  const { logger, metrics, deadlineMs = 5_000 } = options;
  return new ClientCtor(address, options.credentials ?? channelCredentials.createInsecure(), {
    ...CLIENT_OPTIONS,
    ...options.channelOptions,
    interceptors: [clientInterceptor({ logger, metrics, deadlineMs })],
  });
}

export interface CallUnaryOptions {
  /** This call's deadline, overriding the client's default. */
  deadlineMs?: number;
  /** Extra request metadata. */
  metadata?: Metadata;
  /** Cancels the call (the promise rejects). */
  signal?: AbortSignal;
}

type UnaryInvoker = ((
  request: unknown,
  metadata: Metadata,
  options: CallOptions,
  callback: (error: ServiceError | null, response?: unknown) => void,
) => { cancel(): void }) & { path?: string };

/**
 * Calls a unary RPC and returns its response; a failure rejects with the AppError the server threw
 * (see error-mapping.ts), e.g. `await callUnary(users, 'Register', { email, password, name })`.
 */
export function callUnary<C extends Client, M extends UnaryMethodName<C>>(
  client: C,
  method: M,
  request: RequestOf<C, M>,
  options: CallUnaryOptions = {},
): Promise<ResponseOf<C, M>> {
  const invoke = client[method] as unknown as UnaryInvoker;
  const name = parseMethodPath(invoke.path ?? `/unknown/${method}`);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled(name));
    const callOptions: CallOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
    const onAbort = () => call.cancel();
    const call = invoke.call(
      client,
      request,
      options.metadata ?? new Metadata(),
      callOptions,
      (error, response) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(fromGrpcError(error, name));
        else resolve(response as ResponseOf<C, M>);
      },
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves once the client's channel is connected; rejects with UNAVAILABLE at the deadline. */
export function waitForReady(client: Client, deadline: Date | number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(deadline, (error) =>
      error ? reject(new AppError('UNAVAILABLE', 'gRPC peer not ready', { cause: error })) : resolve(),
    ),
  );
}

function cancelled(name: { service: string; method: string }): AppError {
  return new AppError('UNAVAILABLE', 'Call cancelled before it started', {
    details: { grpcService: name.service, grpcMethod: name.method },
  });
}
