export {
  loadProtos,
  loadProtoDefinition,
  resolveProtoRoot,
  listProtoFiles,
  PROTO_LOADER_OPTIONS,
} from './proto-loader.js';
export type * from './generated/index.js';
export { createGrpcServer, type GrpcServer, type GrpcServerOptions } from './grpc-server.js';
export {
  createGrpcClient,
  callUnary,
  waitForReady,
  type GrpcClientOptions,
  type CallUnaryOptions,
} from './grpc-client.js';
export { callServerStream, type CallServerStreamOptions } from './client-stream.js';
export { grpcHealthCheck, type GrpcHealthCheck, type GrpcHealthCheckOptions } from './health-check-client.js';
export type { CallContext } from './call-context.js';
export type {
  UnaryHandler,
  ServerStreamingHandler,
  MethodHandler,
  AsyncHandlers,
  AsyncHandler,
  HandlersFor,
  HandlerRequest,
  HandlerResponse,
  UnaryMethodName,
  RequestOf,
  ResponseOf,
  ServerStreamMethodName,
  StreamRequestOf,
  StreamResponseOf,
  ClientConstructor,
} from './service-types.js';
export { MetadataKeys, encodePrincipal, decodePrincipal } from './metadata.js';
export { toGrpcStatus, fromGrpcError, grpcStatusName } from './error-mapping.js';
export { SERVER_OPTIONS, CLIENT_OPTIONS } from './keepalive.js';
