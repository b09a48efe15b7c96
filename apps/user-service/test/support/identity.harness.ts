import path from 'node:path';
import pg from 'pg';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import {
  AppError,
  captureLogger,
  createMetrics,
  runWithRequestContext,
  type CapturedLogger,
  type ClientInfo,
  type Principal,
} from '@te/platform';
import { createServiceTestEnv, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createUserServiceApp } from '../../src/app.js';
import { loadUserServiceConfig } from '../../src/config.js';
import { USAGE_QUEUE } from '../../src/events/inference-completed.consumer.js';

export const SCHEMA = path.join(__dirname, '../../prisma/schema.prisma');
export const PASSWORD = 'correct horse battery staple';

type Protos = ReturnType<typeof loadProtos>['te']['user']['v1'];
export type UserClient = InstanceType<Protos['UserService']>;
export type SessionClient = InstanceType<Protos['SessionService']>;

export interface RunningUserService {
  app: ReturnType<typeof createUserServiceApp>;
  users: UserClient;
  sessions: SessionClient;
  logs: CapturedLogger;
  grpcPort: number;
  opsPort: number;
  stop(): Promise<void>;
}

/** The service in this process on the given environment (several may share one database). */
export async function startUserService(
  env: ServiceTestEnv,
  overrides: Record<string, string> = {},
  options: { clock?: () => Date } = {},
): Promise<RunningUserService> {
  const logs = captureLogger('user-service');
  const app = createUserServiceApp(loadUserServiceConfig({ ...env.env, ...overrides }), {
    logger: logs.logger,
    clock: options.clock,
  });
  const { grpcPort, opsPort } = await app.start();
  const protos = loadProtos().te.user.v1;
  const clientOptions = {
    logger: logs.logger,
    metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
  };
  const users = createGrpcClient(protos.UserService, `127.0.0.1:${grpcPort}`, clientOptions);
  const sessions = createGrpcClient(protos.SessionService, `127.0.0.1:${grpcPort}`, clientOptions);
  return {
    app,
    users,
    sessions,
    logs,
    grpcPort,
    opsPort,
    async stop() {
      users.close();
      sessions.close();
      await app.stop();
    },
  };
}

export function createIdentityEnv(queues: string[] = []): Promise<ServiceTestEnv> {
  // The service declares its own consumer queue too; registered so cleanup removes it.
  return createServiceTestEnv({
    schemaPath: SCHEMA,
    databaseName: 'te_user',
    queues: [USAGE_QUEUE, ...queues],
  });
}

/** Runs `fn` as the gateway would call: with a principal and the public client's address. */
export function as<T>(
  context: { principal?: Principal; client?: ClientInfo },
  fn: () => Promise<T>,
): Promise<T> {
  return runWithRequestContext({ requestId: `test-${Math.random().toString(36).slice(2)}`, ...context }, fn);
}

/** The principal the gateway derives from an access token of this session. */
export function sessionPrincipal(userId: string, sessionId: string): Principal {
  return {
    userId,
    roles: ['user'],
    scopes: ['profile:write', 'security:read'],
    authMethod: 'jwt',
    sessionId,
  };
}

export const uniqueEmail = (tag: string) =>
  `${tag}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;

/** The error a call failed with (fails the test when it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}

export async function registerAndLogin(service: RunningUserService, email = uniqueEmail('user')) {
  const registered = await callUnary(service.users, 'Register', {
    email,
    password: PASSWORD,
    name: 'Ada Lovelace',
  });
  return { email, user: registered.user!, session: registered.session! };
}

export function queryPool(env: ServiceTestEnv): pg.Pool {
  return openTestPool(env.env['DATABASE_URL'], 2);
}

/** A test consumer of the run's exchange, collecting the events of the given types. */
export async function observeEvents(env: ServiceTestEnv, queue: string, bindings: string[]) {
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
  return { received, close: () => bus.close() };
}

/**
 * Runs a scheduled job now: releases the lock its last run keeps for the rest of its interval (as if
 * the interval had passed), then ticks it.
 */
export async function runJobNow(service: RunningUserService, job: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await service.app.redis.del(`scheduler:user-service:${job}`);
    if (await service.app.scheduler.tick(job)) return;
    await new Promise((resolve) => setTimeout(resolve, 200)); // its periodic run got there first
  }
  throw new Error(`job ${job} did not run`);
}
