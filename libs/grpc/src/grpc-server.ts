import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { AppError, Health, Logger, Metrics } from '@te/platform';
import { GrpcHealthReporter } from './health.js';
import { SERVER_OPTIONS } from './keepalive.js';
import { parseMethodPath } from './method-path.js';
import { loadReflectionDefinition } from './proto-loader.js';
import { wrapServerStreaming } from './server-streaming.js';
import { wrapUnary } from './server-unary.js';
import type { HandlersFor, MethodHandler, ServerStreamingHandler, UnaryHandler } from './service-types.js';

export interface GrpcServerOptions {
  logger: Logger;
  metrics: Metrics;
  health: Health;
  /** grpc.reflection (v1 and v1alpha) for grpcurl and friends; on by default. */
  reflection?: boolean;
  /** Plaintext by default: inside the cluster transport security is the mesh's job. */
  credentials?: ServerCredentials;
  /**
   * grpc-js server options, merged over the keepalive defaults (keepalive.ts), e.g.
   * `{ 'grpc.max_receive_message_length': 16 * 1024 * 1024 }` (default 4 MiB; a larger request is
   * refused with RESOURCE_EXHAUSTED, PAYLOAD_TOO_LARGE on our clients) or `'grpc.max_send_message_length'`.
   */
  serverOptions?: ServerOptions;
  /** How often grpc.health.v1 re-evaluates readiness for Watch streams (default 5000). */
  healthRefreshIntervalMs?: number;
  /**
   * Turns failures no handler mapped into their AppError, e.g. the database being unreachable into
   * UNAVAILABLE (ServiceHost passes @te/database's); anything it returns undefined for stays INTERNAL.
   */
  classifyError?: (error: unknown) => AppError | undefined;
}

export interface GrpcServer {
  /**
   * Serves a service: `addService(loadProtos().te.user.v1.UserService.service, { Register: async (req, ctx) => ... })`.
   * Server-streaming RPCs take `async function* (req, ctx) { yield ... }`. Throws when an RPC has no
   * handler, a handler of the wrong kind, or streams requests (client/bidirectional: not supported).
   */
  addService<D extends ServiceDefinition>(definition: D, handlers: HandlersFor<D>): void;
  /** Binds and serves; resolves with the bound port (pass 0 for any free port). */
  start(port: number, host?: string): Promise<number>;
  /** Health NOT_SERVING, then lets calls in flight finish; after graceMs cancels whatever is left. */
  stop(graceMs: number): Promise<void>;
  /** The underlying grpc-js server, for what this wrapper does not cover. */
  readonly server: Server;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { logger, metrics, classifyError } = options;
  const server = new Server({ ...SERVER_OPTIONS, ...options.serverOptions });
  const health = new GrpcHealthReporter({
    health: options.health,
    logger,
    refreshIntervalMs: options.healthRefreshIntervalMs,
  });
  health.addToServer(server);
  if (options.reflection ?? true) new ReflectionService(loadReflectionDefinition()).addToServer(server);
  let stopping: Promise<void> | undefined;

  return {
    server,

    addService(definition, handlers) {
      const implementation: UntypedServiceImplementation = {};
      const services = new Set<string>();
      for (const [key, method] of Object.entries(definition)) {
        if (method.requestStream) {
          throw new Error(`${method.path}: client and bidirectional streaming RPCs are not supported`);
        }
        const handler = (handlers as Record<string, MethodHandler<unknown, unknown> | undefined>)[key];
        if (typeof handler !== 'function') throw new Error(`${method.path}: no handler given for ${key}`);
        const kind = handler.constructor.name;
        if (method.responseStream) {
          // An `async` function can only resolve once; a stream needs `async function*`.
          if (kind === 'AsyncFunction') {
            throw new Error(
              `${method.path}: a server-streaming handler must be an async generator (async function*)`,
            );
          }
          implementation[key] = wrapServerStreaming(handler as ServerStreamingHandler<unknown, unknown>, {
            logger,
            metrics,
            classifyError,
          });
        } else {
          if (kind === 'AsyncGeneratorFunction') {
            throw new Error(`${method.path}: a unary RPC takes an async function, not an async generator`);
          }
          implementation[key] = wrapUnary(handler as UnaryHandler<unknown, unknown>, {
            logger,
            metrics,
            classifyError,
          });
        }
        services.add(parseMethodPath(method.path).service);
      }
      server.addService(definition, implementation);
      for (const service of services) health.track(service);
    },

    async start(port, host = '0.0.0.0') {
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const credentials = options.credentials ?? ServerCredentials.createInsecure();
      const bound = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, credentials, (error, boundPort) =>
          error ? reject(error) : resolve(boundPort),
        ),
      );
      health.start();
      logger.info('gRPC server listening', { host, port: bound });
      return bound;
    },

    stop(graceMs) {
      stopping ??= new Promise<void>((resolve) => {
        health.stop();
        const timer = setTimeout(() => {
          logger.warn('gRPC server did not drain in time; cancelling remaining calls', { grace_ms: graceMs });
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown((error) => {
          clearTimeout(timer);
          if (error) logger.warn('gRPC server shutdown reported an error', { error_message: error.message });
          else logger.info('gRPC server stopped');
          resolve();
        });
      });
      return stopping;
    },
  };
}
