import path from 'node:path';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callServerStream, callUnary, createGrpcClient, loadProtos, type teAiV1 } from '@te/grpc';
import {
  AppError,
  captureLogger,
  createMetrics,
  runWithRequestContext,
  type CapturedLogger,
  type Principal,
} from '@te/platform';
import { createServiceTestEnv, type ServiceTestEnv } from '@te/testing';
import {
  createAiGatewayServiceApp,
  type AiGatewayServiceApp,
  type AiGatewayServiceRole,
} from '../../src/app.js';
import { loadAiGatewayServiceConfig } from '../../src/config.js';
import { createAiGatewayDb } from '../../src/db/prisma-client.js';
import { USER_DELETED_QUEUE } from '../../src/events/user-deleted.consumer.js';
import { INFERENCE_QUEUE } from '../../src/jobs/inference-job.consumer.js';

export const SCHEMA = path.join(__dirname, '../../prisma/schema.prisma');
/** The test's own queue on the run's exchange, bound to the events it watches. */
export const OBSERVER_QUEUE = 'ai-gateway-test.observer';

type Protos = ReturnType<typeof loadProtos>['te']['ai']['v1'];
export type InferenceClient = InstanceType<Protos['InferenceService']>;
export type CatalogClient = InstanceType<Protos['ModelCatalog']>;

export interface RunningAiGateway {
  app: AiGatewayServiceApp;
  inference: InferenceClient;
  catalog: CatalogClient;
  logs: CapturedLogger;
  stop(): Promise<void>;
}

export function createAiGatewayEnv(): Promise<ServiceTestEnv> {
  return createServiceTestEnv({
    schemaPath: SCHEMA,
    databaseName: 'te_ai_gateway',
    // ai.registry.changed has no durable queue: each replica's broadcast queue goes with it.
    queues: [INFERENCE_QUEUE, USER_DELETED_QUEUE, OBSERVER_QUEUE],
  });
}

/** The service in this process; `random` scripts the alias draw; `role: 'worker'` is src/worker.ts. */
export async function startAiGateway(
  env: ServiceTestEnv,
  overrides: Record<string, string> = {},
  options: { random?: () => number; role?: AiGatewayServiceRole } = {},
): Promise<RunningAiGateway> {
  const logs = captureLogger('ai-gateway-service');
  const app = createAiGatewayServiceApp(loadAiGatewayServiceConfig({ ...env.env, ...overrides }), {
    logger: logs.logger,
    random: options.random,
    role: options.role,
  });
  const { grpcPort } = await app.start();
  const protos = loadProtos().te.ai.v1;
  const clientOptions = {
    logger: logs.logger,
    metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
  };
  const inference = createGrpcClient(protos.InferenceService, `127.0.0.1:${grpcPort}`, clientOptions);
  const catalog = createGrpcClient(protos.ModelCatalog, `127.0.0.1:${grpcPort}`, clientOptions);
  return {
    app,
    inference,
    catalog,
    logs,
    async stop() {
      inference.close();
      catalog.close();
      await app.stop();
    },
  };
}

/** A direct client of the service's database, as another replica (or an operator's tool) would use. */
export function openDb(env: ServiceTestEnv) {
  return createAiGatewayDb({ url: env.env['DATABASE_URL']!, poolSize: 2, applicationName: 'test' });
}

export function userPrincipal(userId: string): Principal {
  return { userId, roles: ['user'], scopes: [], authMethod: 'jwt' };
}

/** Runs `fn` as the gateway would call: with this principal in x-te-principal. */
export function as<T>(principal: Principal | undefined, fn: () => Promise<T>): Promise<T> {
  return runWithRequestContext(
    { requestId: `test-${Math.random().toString(36).slice(2)}`, ...(principal && { principal }) },
    fn,
  );
}

export function infer(
  service: RunningAiGateway,
  principal: Principal | undefined,
  request: teAiV1.InferRequest,
  deadlineMs = 10_000,
) {
  return as(principal, () => callUnary(service.inference, 'Infer', request, { deadlineMs }));
}

/** Collects a stream's events (and the error that ended it, if any). */
export async function inferStream(
  service: RunningAiGateway,
  principal: Principal | undefined,
  request: teAiV1.InferRequest,
  options: { deadlineMs?: number; stopAfter?: (event: teAiV1.InferStreamEvent__Output) => boolean } = {},
): Promise<{ events: teAiV1.InferStreamEvent__Output[]; error?: AppError }> {
  return as(principal, async () => {
    const events: teAiV1.InferStreamEvent__Output[] = [];
    try {
      for await (const event of callServerStream(service.inference, 'InferStream', request, {
        deadlineMs: options.deadlineMs ?? 10_000,
      })) {
        events.push(event);
        if (options.stopAfter?.(event)) break;
      }
      return { events };
    } catch (error) {
      return { events, error: error as AppError };
    }
  });
}

export function textRequest(
  requestId: string,
  model: string,
  question: string,
  context?: string,
): teAiV1.InferRequest {
  return {
    requestId,
    model,
    messages: [
      ...(context ? [{ role: 'system', content: [{ text: context }] }] : []),
      { role: 'user', content: [{ text: question }] },
    ],
  };
}

/** The error a call failed with (fails the test when it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}

/** A consumer of the run's exchange, collecting the events of the given types. */
export async function observeEvents(env: ServiceTestEnv, bindings: string[]) {
  const logs = captureLogger('observer');
  const received: EventEnvelope<Record<string, unknown>>[] = [];
  const bus = new RabbitMqEventBus({
    url: env.amqp.url,
    exchange: env.amqp.exchange,
    queuePrefix: env.amqp.queuePrefix,
    logger: logs.logger,
    metrics: createMetrics({ service: 'observer', defaultMetrics: false }),
    connectionName: 'test-observer',
  });
  await bus.connect();
  await bus.subscribe<Record<string, unknown>>({
    queue: OBSERVER_QUEUE,
    bindings,
    handler: async (event) => {
      received.push(event);
    },
  });
  return { received, close: () => bus.close() };
}
