import {
  Metadata,
  type CallOptions,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { AppError } from '@te/platform';
import { fromGrpcError } from './error-mapping.js';
import { parseMethodPath, type MethodName } from './method-path.js';
import type { ServerStreamMethodName, StreamRequestOf, StreamResponseOf } from './service-types.js';

export interface CallServerStreamOptions {
  /**
   * The whole stream's deadline, overriding the client's default (5 s unless the client sets
   * another): a long stream needs a longer one. Still never later than the deadline of the call
   * being handled, when there is one.
   */
  deadlineMs?: number;
  /** Extra request metadata. */
  metadata?: Metadata;
  /** Cancels the call; the iteration then throws. */
  signal?: AbortSignal;
}

type ServerStreamInvoker = ((
  request: unknown,
  metadata: Metadata,
  options: CallOptions,
) => ClientReadableStream<unknown>) & { path?: string };

/**
 * Calls a server-streaming RPC and yields its messages in order:
 *
 *     for await (const event of callServerStream(inference, 'InferStream', request, { deadlineMs: 120_000 })) { ... }
 *
 * The call starts when iteration starts, with the same metadata, deadline, tracing and metrics as
 * callUnary (the client's interceptors). Only as many messages are buffered as the consumer is
 * behind by one Readable buffer (16): a slow consumer slows the server down (HTTP/2 flow control).
 * A failure, before or after messages, throws the AppError the server threw (see error-mapping.ts).
 * Leaving the loop early (`break`, `return`, a throw) or aborting `signal` cancels the call, which
 * the server sees as ctx.signal aborting.
 */
export function callServerStream<C extends Client, M extends ServerStreamMethodName<C>>(
  client: C,
  method: M,
  request: StreamRequestOf<C, M>,
  options: CallServerStreamOptions = {},
): AsyncIterable<StreamResponseOf<C, M>> {
  const invoke = client[method] as unknown as ServerStreamInvoker;
  const name = parseMethodPath(invoke.path ?? `/unknown/${method}`);
  return {
    [Symbol.asyncIterator]: () =>
      readStream<StreamResponseOf<C, M>>(client, invoke, name, request, options)[Symbol.asyncIterator](),
  };
}

async function* readStream<T>(
  client: Client,
  invoke: ServerStreamInvoker,
  name: MethodName,
  request: unknown,
  options: CallServerStreamOptions,
): AsyncGenerator<T, void, undefined> {
  const { signal } = options;
  if (signal?.aborted) throw cancelledBeforeStart(name);
  const callOptions: CallOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
  const call = invoke.call(client, request, options.metadata ?? new Metadata(), callOptions);
  const onAbort = () => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  let ended = false;
  try {
    // The Readable's iterator yields what is buffered before it throws the call's error, so the
    // messages sent before a failure arrive first.
    for await (const message of call) yield message as T;
    ended = true;
  } catch (error) {
    ended = true;
    throw isServiceError(error) ? fromGrpcError(error, name) : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The consumer left early: tell the server (a no-op once the call has a status).
    if (!ended) call.cancel();
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}

function cancelledBeforeStart(name: MethodName): AppError {
  return new AppError('UNAVAILABLE', 'Call cancelled before it started', {
    details: { grpcService: name.service, grpcMethod: name.method },
  });
}
