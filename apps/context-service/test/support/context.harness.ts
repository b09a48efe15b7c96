import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callServerStream, callUnary, createGrpcClient, loadProtos, type teContextV1 } from '@te/grpc';
import {
  AppError,
  captureLogger,
  createMetrics,
  runWithRequestContext,
  scopesForRoles,
  type CapturedLogger,
} from '@te/platform';
import {
  createServiceTestEnv,
  type FakeAiGateway,
  type ServiceTestEnv,
  startFakeAiGateway,
  openTestPool,
} from '@te/testing';
import { createContextServiceApp, type ContextServiceAppOptions } from '../../src/app.js';
import { loadContextServiceConfig } from '../../src/config.js';
import { CONTEXT_OCR_QUEUE } from '../../src/events/ocr.consumer.js';
import { CONTEXT_REPLIES_QUEUE } from '../../src/events/reply.consumer.js';
import { USER_DELETED_QUEUE } from '../../src/events/user-deleted.consumer.js';

export const SCHEMA = path.join(__dirname, '../../prisma/schema.prisma');

export type ContextClient = InstanceType<
  ReturnType<typeof loadProtos>['te']['context']['v1']['ContextService']
>;

export interface RunningContextService {
  app: ReturnType<typeof createContextServiceApp>;
  client: ContextClient;
  logs: CapturedLogger;
  stop(): Promise<void>;
}

/** A run's own database, exchange and Redis prefix; the service's consumer queue is removed at cleanup. */
export function createContextEnv(queues: string[] = []): Promise<ServiceTestEnv> {
  return createServiceTestEnv({
    schemaPath: SCHEMA,
    databaseName: 'te_context',
    queues: [USER_DELETED_QUEUE, CONTEXT_OCR_QUEUE, CONTEXT_REPLIES_QUEUE, ...queues],
  });
}

/** context-service in this process against the machine's PostgreSQL, Redis and RabbitMQ. */
export async function startContextService(
  env: ServiceTestEnv,
  overrides: Record<string, string> = {},
  options: Omit<ContextServiceAppOptions, 'logger'> = {},
): Promise<RunningContextService> {
  const logs = captureLogger('context-service', 'info');
  // Every message is answered: a fake AI gateway (te.ai.v1 on loopback) unless the test brings its own.
  const ai = overrides['AI_GATEWAY_SERVICE_ADDR']
    ? undefined
    : await startFakeAiGateway({ models: [{ name: 'explainer' }, { name: 'gpt-4o-mini' }] });
  const app = createContextServiceApp(
    loadContextServiceConfig({
      ...env.env,
      ...(ai && { AI_GATEWAY_SERVICE_ADDR: ai.address }),
      ...overrides,
    }),
    {
      ...options,
      logger: logs.logger,
    },
  );
  const { grpcPort } = await app.start();
  const client = createGrpcClient(loadProtos().te.context.v1.ContextService, `127.0.0.1:${grpcPort}`, {
    logger: logs.logger,
    metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
  });
  return {
    app,
    client,
    logs,
    async stop() {
      client.close();
      await app.stop();
      await ai?.stop();
    },
  };
}

/** Runs `fn` as the gateway calls: with the principal of a signed-in user. */
export function as<T>(userId: string, fn: () => Promise<T>): Promise<T> {
  return runWithRequestContext(
    {
      requestId: `test-${Math.random().toString(36).slice(2)}`,
      principal: { userId, roles: ['user'], scopes: scopesForRoles(['user']), authMethod: 'jwt' },
    },
    fn,
  );
}

/** Typed calls as a given user. */
export function callsAs(client: ContextClient, userId: string) {
  type Req<M extends keyof ContextClient> = Parameters<ContextClient[M]>[0];
  return {
    create: (request: Req<'CreateSession'> = {}) =>
      as(userId, () => callUnary(client, 'CreateSession', request)),
    list: (request: Req<'ListSessions'> = {}) => as(userId, () => callUnary(client, 'ListSessions', request)),
    get: (id: string) => as(userId, () => callUnary(client, 'GetSession', { id })),
    update: (request: Req<'UpdateSession'>) => as(userId, () => callUnary(client, 'UpdateSession', request)),
    remove: (id: string) => as(userId, () => callUnary(client, 'DeleteSession', { id })),
    post: (request: Req<'PostMessage'>) => as(userId, () => callUnary(client, 'PostMessage', request)),
    /**
     * PostMessageStream, read to its end: every event in order, and the error it ended with (if any).
     * `onEvent` sees each event as it arrives (e.g. to abort `signal` mid-stream).
     */
    postStream: (
      request: Req<'PostMessageStream'>,
      options: {
        signal?: AbortSignal;
        deadlineMs?: number;
        onEvent?: (event: teContextV1.PostMessageEvent__Output) => void;
      } = {},
    ) =>
      as(userId, async () => {
        const events: teContextV1.PostMessageEvent__Output[] = [];
        try {
          const stream = callServerStream(client, 'PostMessageStream', request, {
            deadlineMs: options.deadlineMs ?? 30_000,
            ...(options.signal && { signal: options.signal }),
          });
          for await (const event of stream) {
            events.push(event);
            options.onEvent?.(event);
          }
          return { events, error: undefined };
        } catch (error) {
          return { events, error: error as AppError };
        }
      }),
    messages: (request: Req<'ListMessages'>) => as(userId, () => callUnary(client, 'ListMessages', request)),
    upload: (request: Req<'UploadAttachment'>) =>
      as(userId, () => callUnary(client, 'UploadAttachment', request)),
    attachment: (sessionId: string, attachmentId: string) =>
      as(userId, () => callUnary(client, 'GetAttachment', { sessionId, attachmentId })),
    /**
     * GetAttachmentContent, read to its end (or until `stopAfter` chunks, then cancelled): the chunks in
     * order and the error the call ended with (if any).
     */
    content: (sessionId: string, attachmentId: string, options: { stopAfter?: number } = {}) =>
      as(userId, async () => {
        const chunks: teContextV1.AttachmentChunk__Output[] = [];
        try {
          const stream = callServerStream(
            client,
            'GetAttachmentContent',
            { sessionId, attachmentId },
            { deadlineMs: 30_000 },
          );
          for await (const chunk of stream) {
            chunks.push(chunk);
            if (chunks.length === options.stopAfter) break;
          }
          return { chunks, error: undefined };
        } catch (error) {
          return { chunks, error: error as AppError };
        }
      }),
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

export function queryPool(env: ServiceTestEnv): pg.Pool {
  const pool = openTestPool(env.env['DATABASE_URL'], 2);
  // An idle connection ended by the server (seen once on CI: 57P01) must not fail the test as an
  // unhandled 'error' event: the pool replaces it on the next query.
  pool.on('error', () => undefined);
  return pool;
}

/** A test consumer of the run's exchange (its queue is registered for cleanup), collecting events. */
export async function observeEvents(env: ServiceTestEnv, queue: string, bindings: string[]) {
  env.amqp.registerQueue(queue);
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
    queue,
    bindings,
    handler: async (event) => {
      received.push(event);
    },
  });
  return { received, bus, close: () => bus.close() };
}

export interface ContextServiceWithAi {
  env: ServiceTestEnv;
  /** The test's fake AI gateway (te.ai.v1 on loopback), which the service is configured with. */
  ai: FakeAiGateway;
  service: RunningContextService;
  /** An observer of the run's `context.message.created` events. */
  events: Awaited<ReturnType<typeof observeEvents>>;
  /** Stops everything above and removes the object storage folder. */
  stop(): Promise<void>;
}

/**
 * context-service in-process with a temporary folder as its object storage, the test's own fake AI
 * gateway (AI_GATEWAY_SERVICE_ADDR), no model catalogue cache, and an observer of
 * `context.message.created` on queue `test-observer.<label>`. `overrides` adds configuration.
 */
export async function startContextServiceWithAi(
  label: string,
  overrides: Record<string, string> = {},
): Promise<ContextServiceWithAi> {
  const root = await mkdtemp(path.join(tmpdir(), `te-${label}-`));
  let ai: FakeAiGateway | undefined;
  let env: ServiceTestEnv | undefined;
  let service: RunningContextService | undefined;
  let events: Awaited<ReturnType<typeof observeEvents>> | undefined;
  const stop = async () => {
    await events?.close();
    await service?.stop();
    await ai?.stop();
    await env?.cleanup();
    await rm(root, { recursive: true, force: true });
  };
  try {
    ai = await startFakeAiGateway();
    env = await createContextEnv();
    service = await startContextService(env, {
      STORAGE_FS_ROOT: root,
      AI_GATEWAY_SERVICE_ADDR: ai.address,
      MODEL_CATALOGUE_TTL_MS: '0',
      ...overrides,
    });
    events = await observeEvents(env, `test-observer.${label}`, ['context.message.created']);
    return { env, ai, service, events, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
