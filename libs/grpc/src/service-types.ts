/**
 * Types that turn the generated ones (src/generated) into handler and client signatures, so no
 * message type is ever written by hand.
 */
import type { Client, ClientUnaryCall, handleUnaryCall, requestCallback } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { CallContext } from './call-context.js';

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

// Generated Handlers/Definition interfaces extend grpc's index-signature types; keep only the RPCs.
type RpcKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: true };

/**
 * Handlers of a service, derived from its generated `XxxHandlers` type. Use it to type handler
 * modules: `const register: AsyncHandlers<teUserV1.UserServiceHandlers>['Register'] = async (req, ctx) => ...`.
 * Streaming RPCs map to `never` until the server supports them.
 */
export type AsyncHandlers<H> = { [K in RpcKeys<H>]: AsyncHandler<H[K]> };
export type AsyncHandler<C> =
  C extends handleUnaryCall<infer Req, infer Res> ? UnaryHandler<Req, Res> : never;

/**
 * Handlers of a service, derived from its generated `XxxDefinition` (what `addService` receives), so
 * `server.addService(protos.te.user.v1.UserService.service, { Register: async (req, ctx) => ... })`
 * infers every request and response type. Same function types as AsyncHandlers<XxxHandlers>.
 */
export type HandlersFor<D> = {
  [K in RpcKeys<D>]: D[K] extends MethodDefinition<infer _Req, infer Res, infer ReqOut, infer _ResOut>
    ? UnaryHandler<ReqOut, Res>
    : never;
};

/** The request type a handler receives (the loader's output type, with defaults filled in). */
export type HandlerRequest<H, M extends RpcKeys<H>> = Parameters<AsyncHandlers<H>[M]>[0];
/** The response type a handler returns. */
export type HandlerResponse<H, M extends RpcKeys<H>> = Awaited<ReturnType<AsyncHandlers<H>[M]>>;

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

/** A generated client constructor, e.g. `loadProtos().te.user.v1.UserService`. */
export type ClientConstructor<C extends Client> = new (...args: ConstructorParameters<typeof Client>) => C;
