/**
 * Types that turn the generated ones (src/generated) into handler and client signatures, so no
 * message type is ever written by hand.
 */
import type {
  CallOptions,
  Client,
  ClientReadableStream,
  ClientUnaryCall,
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  requestCallback,
} from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { CallContext } from './call-context.js';

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

/**
 * A server-streaming RPC: usually an async generator, `async function* (request, ctx) { yield ... }`.
 * Each yielded message is sent in order; the generator is not resumed until the transport has room
 * (backpressure), returning ends the call with OK, throwing ends it with the error's status. When the
 * caller cancels or the deadline passes, `ctx.signal` aborts and the generator is closed (its
 * `finally` blocks run).
 */
export type ServerStreamingHandler<Req, Res> = (request: Req, ctx: CallContext) => AsyncIterable<Res>;

/** Either kind of handler; addService checks at start-up that each one fits its RPC. */
export type MethodHandler<Req, Res> = UnaryHandler<Req, Res> | ServerStreamingHandler<Req, Res>;

// Generated Handlers/Definition interfaces extend grpc's index-signature types; keep only the RPCs.
type RpcKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: true };

/**
 * Handlers of a service, derived from its generated `XxxHandlers` type. Use it to type handler
 * modules: `const register: AsyncHandlers<teUserV1.UserServiceHandlers>['Register'] = async (req, ctx) => ...`.
 * Server-streaming RPCs get ServerStreamingHandler; client and bidirectional streaming map to `never`
 * (not supported). Streaming kinds are tested first: they are the more specific function types.
 */
export type AsyncHandlers<H> = { [K in RpcKeys<H>]: AsyncHandler<H[K]> };
export type AsyncHandler<C> =
  C extends handleBidiStreamingCall<infer _Req, infer _Res>
    ? never
    : C extends handleClientStreamingCall<infer _Req, infer _Res>
      ? never
      : C extends handleServerStreamingCall<infer Req, infer Res>
        ? ServerStreamingHandler<Req, Res>
        : C extends handleUnaryCall<infer Req, infer Res>
          ? UnaryHandler<Req, Res>
          : never;

/**
 * Handlers of a service, derived from its generated `XxxDefinition` (what `addService` receives), so
 * `server.addService(protos.te.user.v1.UserService.service, { Register: async (req, ctx) => ... })`
 * infers every request and response type. The generated definition types do not say which RPCs
 * stream, so each method accepts either handler kind here and addService checks the kind when it is
 * called; AsyncHandlers<XxxHandlers> (how handler modules are typed) is exact.
 */
export type HandlersFor<D> = {
  [K in RpcKeys<D>]: D[K] extends MethodDefinition<infer _Req, infer Res, infer ReqOut, infer _ResOut>
    ? MethodHandler<ReqOut, Res>
    : never;
};

/** The request type a handler receives (the loader's output type, with defaults filled in). */
export type HandlerRequest<H, M extends RpcKeys<H>> = Parameters<AsyncHandlers<H>[M]>[0];
/** The response type a handler returns (for a streaming RPC: the type of each message it yields). */
export type HandlerResponse<H, M extends RpcKeys<H>> =
  ReturnType<AsyncHandlers<H>[M]> extends AsyncIterable<infer Res>
    ? Res
    : Awaited<ReturnType<AsyncHandlers<H>[M]>>;

// The last overload of each generated client method is `(argument, callback)`; conditional types
// read that one.
type UnaryClientMethod<Req, Res> = (argument: Req, callback: requestCallback<Res>) => ClientUnaryCall;

/** Names of the unary methods of a generated client (both `Register` and `register`). */
export type UnaryMethodName<C> = {
  // `any` on purpose: the widest signature every unary method is assignable to (`never` is not, since
  // the callback parameter is contravariant). Client's own methods (close, waitForReady, ...) fail it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof C]-?: C[K] extends UnaryClientMethod<any, any> ? K : never;
}[keyof C] &
  string;
export type RequestOf<C, M extends keyof C> =
  C[M] extends UnaryClientMethod<infer Req, infer _Res> ? Req : never;
export type ResponseOf<C, M extends keyof C> =
  C[M] extends UnaryClientMethod<infer _Req, infer Res> ? Res : never;

// Server-streaming client methods end with the overload `(argument, options?) => ClientReadableStream`.
type ServerStreamClientMethod<Req, Res> = (argument: Req, options?: CallOptions) => ClientReadableStream<Res>;

/** Names of the server-streaming methods of a generated client (both `InferStream` and `inferStream`). */
export type ServerStreamMethodName<C> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof C]-?: C[K] extends ServerStreamClientMethod<any, any> ? K : never;
}[keyof C] &
  string;
/** The request a server-streaming method takes. */
export type StreamRequestOf<C, M extends keyof C> =
  C[M] extends ServerStreamClientMethod<infer Req, infer _Res> ? Req : never;
/** The type of each message a server-streaming method yields. */
export type StreamResponseOf<C, M extends keyof C> =
  C[M] extends ServerStreamClientMethod<infer _Req, infer Res> ? Res : never;

/** A generated client constructor, e.g. `loadProtos().te.user.v1.UserService`. */
export type ClientConstructor<C extends Client> = new (...args: ConstructorParameters<typeof Client>) => C;
