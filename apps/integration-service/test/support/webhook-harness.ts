import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { createEvent, RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos, type RequestOf } from '@te/grpc';
import {
  captureLogger,
  createMetrics,
  runWithRequestContext,
  scopesForRoles,
  type AppError,
} from '@te/platform';
import { createServiceTestEnv, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createIntegrationServiceApp } from '../../src/app.js';
import { loadIntegrationServiceConfig } from '../../src/config.js';
import { EVENT_LOG_QUEUE } from '../../src/event-stream/event-log.consumer.js';
import { CONSUMER_NAME } from '../../src/events/platform-event.consumer.js';

const SCHEMA = path.join(__dirname, '../../prisma/schema.prisma');

/** One request a receiver got: what a customer's server sees. */
export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string };

/**
 * A customer's webhook receiver on loopback: records every request and answers with the replies
 * queued for its path (then `fallback`, 200 by default).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly replies = new Map<string, Reply[]>();
  private readonly fallback = new Map<string, Reply>();
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = http.createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const route = req.url ?? '/';
        receiver.requests.push({
          path: route,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        const reply = receiver.replies.get(route)?.shift() ??
          receiver.fallback.get(route) ?? { status: 200, body: 'ok' };
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        res.end(reply.body ?? '');
        const waiting = receiver.waiters;
        receiver.waiters = [];
        waiting.forEach((wake) => wake());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(route: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${route}`;
  }

  /** Replies for the next requests to `route`, in order; then `fallback` (or 200). */
  queue(route: string, replies: Reply[], fallback?: Reply): void {
    this.replies.set(route, [...replies]);
    if (fallback) this.fallback.set(route, fallback);
  }

  at(route: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === route);
  }

  /** Resolves once `route` has received `count` requests (event-driven, with a generous timeout). */
  async waitFor(route: string, count: number, timeoutMs = 20_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.at(route).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${route}: ${this.at(route).length} of ${count} requests within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.at(route);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** The service in-process on real PostgreSQL, Redis and RabbitMQ, restartable on the same state. */
export class WebhookService {
  readonly captured = captureLogger('integration-service');
  app?: ReturnType<typeof createIntegrationServiceApp>;
  grpcPort = 0;
  publisher!: RabbitMqEventBus;
  db!: pg.Pool;
  private client?: ReturnType<typeof createWebhooksClient>;
  private connectorsClient?: ReturnType<typeof createConnectorsClient>;

  private constructor(
    readonly env: ServiceTestEnv,
    private overrides: Record<string, string>,
  ) {}

  static async create(overrides: Record<string, string> = {}): Promise<WebhookService> {
    const env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_integration',
      queues: [CONSUMER_NAME, EVENT_LOG_QUEUE],
    });
    const service = new WebhookService(env, overrides);
    service.db = openTestPool(env.env.DATABASE_URL, 3);
    service.publisher = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      logger: service.captured.logger,
      metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
      connectionName: 'test-publisher',
    });
    await service.publisher.connect();
    await service.start();
    return service;
  }

  async start(): Promise<void> {
    this.app = createIntegrationServiceApp(
      loadIntegrationServiceConfig({
        ...this.env.env,
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        WEBHOOK_SECRET_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        WEBHOOK_ALLOWED_DESTINATIONS: '127.0.0.0/8',
        WEBHOOK_POLL_INTERVAL_MS: '100',
        ...this.overrides,
      }),
      { logger: this.captured.logger },
    );
    const ports = await this.app.start();
    this.client?.close();
    this.client = createWebhooksClient(`127.0.0.1:${ports.grpcPort}`);
    this.connectorsClient?.close();
    this.connectorsClient = createConnectorsClient(`127.0.0.1:${ports.grpcPort}`);
  }

  /** Stops and starts again on the same state with some variables changed (e.g. a new encryption key). */
  async restartWith(overrides: Record<string, string>): Promise<void> {
    await this.stop();
    this.overrides = { ...this.overrides, ...overrides };
    await this.start();
  }

  async stop(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    this.connectorsClient?.close();
    this.connectorsClient = undefined;
    await this.app?.stop();
    this.app = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.publisher?.close();
    await this.db?.end();
    await this.env.cleanup();
  }

  /** The Webhooks RPCs as a user (the principal the gateway would send). */
  as(userId: string) {
    const client = this.client!;
    type Req<M extends keyof typeof client> = RequestOf<typeof client, M>;
    const call = <T>(fn: () => Promise<T>) =>
      runWithRequestContext(
        {
          requestId: `test-${Math.random().toString(36).slice(2)}`,
          principal: { userId, roles: ['user'], scopes: scopesForRoles(['user']), authMethod: 'jwt' },
        },
        fn,
      );
    // Answers with the endpoint present (the contract's submessages are nullable).
    const withEndpoint = async <R extends { endpoint?: E | null }, E>(answer: Promise<R>) => {
      const response = await answer;
      if (!response.endpoint) throw new Error('the answer has no endpoint');
      return { ...response, endpoint: response.endpoint };
    };
    return {
      create: (request: Req<'CreateWebhookEndpoint'>) =>
        withEndpoint(call(() => callUnary(client, 'CreateWebhookEndpoint', request))),
      list: () => call(() => callUnary(client, 'ListWebhookEndpoints', {})),
      get: (id: string) => withEndpoint(call(() => callUnary(client, 'GetWebhookEndpoint', { id }))),
      update: (request: Req<'UpdateWebhookEndpoint'>) =>
        withEndpoint(call(() => callUnary(client, 'UpdateWebhookEndpoint', request))),
      remove: (id: string) => call(() => callUnary(client, 'DeleteWebhookEndpoint', { id })),
      rotate: (id: string) => withEndpoint(call(() => callUnary(client, 'RotateWebhookSecret', { id }))),
      deliveries: (endpointId: string, pageSize = 0, pageToken = '') =>
        call(() => callUnary(client, 'ListWebhookDeliveries', { endpointId, pageSize, pageToken })),
      delivery: (endpointId: string, deliveryId: string) =>
        call(() => callUnary(client, 'GetWebhookDelivery', { endpointId, deliveryId })),
      replay: (endpointId: string, deliveryId: string) =>
        call(() => callUnary(client, 'ReplayWebhookDelivery', { endpointId, deliveryId })),
      test: (id: string) => call(() => callUnary(client, 'SendTestWebhook', { id })),
    };
  }

  /** The Connectors RPCs as a user (decision 0024). */
  connectorsAs(userId: string) {
    const client = this.connectorsClient!;
    type Req<M extends keyof typeof client> = RequestOf<typeof client, M>;
    const call = <T>(fn: () => Promise<T>) =>
      runWithRequestContext(
        {
          requestId: `test-${Math.random().toString(36).slice(2)}`,
          principal: { userId, roles: ['user'], scopes: scopesForRoles(['user']), authMethod: 'jwt' },
        },
        fn,
      );
    const withConnector = async <R extends { connector?: unknown }>(
      answer: Promise<R>,
    ): Promise<NonNullable<R['connector']>> => {
      const response = await answer;
      if (!response.connector) throw new Error('the answer has no connector');
      return response.connector as NonNullable<R['connector']>;
    };
    return {
      create: (request: Req<'CreateConnector'>) =>
        withConnector(call(() => callUnary(client, 'CreateConnector', request))),
      list: () => call(() => callUnary(client, 'ListConnectors', {})),
      get: (id: string) => withConnector(call(() => callUnary(client, 'GetConnector', { id }))),
      update: (request: Req<'UpdateConnector'>) =>
        withConnector(call(() => callUnary(client, 'UpdateConnector', request))),
      remove: (id: string) => call(() => callUnary(client, 'DeleteConnector', { id })),
      test: (id: string) => call(() => callUnary(client, 'TestConnector', { id })),
      deliveries: (connectorId: string, pageSize = 0, pageToken = '') =>
        call(() => callUnary(client, 'ListConnectorDeliveries', { connectorId, pageSize, pageToken })),
    };
  }

  /** Without a principal. */
  get anonymous() {
    return this.client!;
  }

  publish(event: EventEnvelope): Promise<void> {
    return this.publisher.publish(event);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(sql, params)).rows as T[];
  }
}

function createWebhooksClient(address: string) {
  const { logger } = captureLogger('test-client');
  return createGrpcClient(loadProtos().te.integration.v1.Webhooks, address, {
    logger,
    metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    deadlineMs: 15_000,
  });
}

function createConnectorsClient(address: string) {
  const { logger } = captureLogger('test-client');
  return createGrpcClient(loadProtos().te.integration.v1.Connectors, address, {
    logger,
    metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    deadlineMs: 15_000,
  });
}

/** A user-visible event about `userId`, as its producer would publish it. */
export function messageCreated(userId: string, text = 'hello'): EventEnvelope {
  return createEvent({
    type: 'context.message.created',
    source: 'context-service',
    subject: userId,
    data: {
      message_id: crypto.randomUUID(),
      session_id: crypto.randomUUID(),
      user_id: userId,
      role: 'user',
      mode: 'sync',
      model: '',
      content_length: text.length,
      attachment_ids: [],
      created_at: new Date().toISOString(),
    },
  });
}

export function sessionCreated(userId: string): EventEnvelope {
  return createEvent({
    type: 'context.session.created',
    source: 'context-service',
    subject: userId,
    data: { user_id: userId, session_id: crypto.randomUUID() },
  });
}

export async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}
