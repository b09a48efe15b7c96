import { randomUUID } from 'node:crypto';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import { createLogger, createMetrics, runWithRequestContext, type Principal } from '@te/platform';

/** The options every client of this tool gets: warnings only, metrics in a registry of its own. */
export function clientOptions() {
  return {
    logger: createLogger({ service: 'bench', level: 'warn' }),
    metrics: createMetrics({ service: 'bench', defaultMetrics: false }),
  };
}

/**
 * Runs `call` as the gateway runs a backend call: inside a request context whose principal the
 * client interceptor writes into the metadata (`x-te-principal`), with a fresh request id.
 */
export function asPrincipal<T>(principal: Principal, call: () => Promise<T>): Promise<T> {
  return runWithRequestContext({ requestId: randomUUID(), principal }, call);
}

export function userServiceClient(address: string) {
  return createGrpcClient(loadProtos().te.user.v1.UserService, address, clientOptions());
}

export function inferenceClient(address: string) {
  const options = clientOptions();
  const ai = loadProtos().te.ai.v1;
  return {
    inference: createGrpcClient(ai.InferenceService, address, options),
    catalog: createGrpcClient(ai.ModelCatalog, address, options),
    admin: createGrpcClient(ai.ModelAdmin, address, options),
  };
}

export { callUnary };
