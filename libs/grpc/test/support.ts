import {
  AppError,
  Health,
  captureLogger,
  createMetrics,
  type CapturedLogger,
  type Metrics,
  type TracingOptions,
} from '@te/platform';
import {
  createGrpcClient,
  createGrpcServer,
  loadProtos,
  type AsyncHandlers,
  type GrpcServer,
  type HandlersFor,
  type teUserV1,
} from '../src/index.js';

export interface Harness {
  server: GrpcServer;
  port: number;
  address: string;
  client: teUserV1.UserServiceClient;
  health: Health;
  metrics: Metrics;
  log: CapturedLogger;
  close(): Promise<void>;
}

type UserServiceDefinition = ReturnType<typeof loadProtos>['te']['user']['v1']['UserService']['service'];
export type UserHandlers = HandlersFor<UserServiceDefinition>;

/** A UserService on port 0 with a client pointed at it; `overrides` replace individual RPCs. */
export async function startUserService(
  overrides: Partial<UserHandlers> = {},
  options: { clientDeadlineMs?: number; health?: Health } = {},
): Promise<Harness> {
  const log = captureLogger('grpc-test');
  const metrics = createMetrics({ service: 'grpc-test', defaultMetrics: false });
  const health = options.health ?? new Health();
  const server = createGrpcServer({ logger: log.logger, metrics, health, healthRefreshIntervalMs: 50 });
  server.addService(loadProtos().te.user.v1.UserService.service, { ...inMemoryUserService(), ...overrides });
  const port = await server.start(0, '127.0.0.1');
  const address = `127.0.0.1:${port}`;
  const client = createGrpcClient(loadProtos().te.user.v1.UserService, address, {
    logger: log.logger,
    metrics,
    deadlineMs: options.clientDeadlineMs,
  });
  return {
    server,
    port,
    address,
    client,
    health,
    metrics,
    log,
    async close() {
      client.close();
      await server.stop(1_000);
    },
  };
}

/**
 * A small but real UserService: what the user-service will do, minus storage and crypto. Typed from
 * the generated UserServiceHandlers (as handler modules are) and passed where addService expects the
 * definition-derived type: this file compiling proves the two agree.
 */
export function inMemoryUserService(): AsyncHandlers<teUserV1.UserServiceHandlers> {
  const users = new Map<string, teUserV1.User__Output & { password: string }>();
  const token = (id: string) => ({ token: `token-for-${id}`, tokenType: 'Bearer', expiresIn: 900 });
  const view = ({ password: _password, ...user }: teUserV1.User__Output & { password: string }) => user;
  return {
    async Register(request) {
      const email = request.email.trim().toLowerCase();
      if ([...users.values()].some((user) => user.email === email)) {
        throw new AppError('CONFLICT', 'Email already registered');
      }
      const user = {
        id: `u${users.size + 1}`,
        email,
        name: request.name,
        roles: ['user'],
        createdAt: '2026-01-31T12:00:00.000Z',
        locale: 'en',
        preferencesJson: '{}',
        password: request.password,
      };
      users.set(user.id, user);
      return { user: view(user), accessToken: token(user.id) };
    },
    async Login(request) {
      const user = [...users.values()].find((u) => u.email === request.email.toLowerCase());
      if (!user || user.password !== request.password)
        throw new AppError('UNAUTHENTICATED', 'Invalid credentials');
      return { user: view(user), accessToken: token(user.id) };
    },
    async GetUser(request) {
      const user = users.get(request.id);
      if (!user) throw new AppError('NOT_FOUND', 'User not found');
      return { user: view(user) };
    },
    async GetJwks() {
      return { keys: [{ kid: 'k1', kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256', x: 'xx', y: 'yy' }] };
    },
    // The self-service RPCs are not what these transport tests are about.
    GetMe: notInThisTest,
    UpdateProfile: notInThisTest,
    ChangePassword: notInThisTest,
    DeleteAccount: notInThisTest,
    ListSecurityEvents: notInThisTest,
  };
}

async function notInThisTest(): Promise<never> {
  throw new AppError('METHOD_NOT_ALLOWED', 'Not implemented by the in-memory test service');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type SpanProcessor = NonNullable<TracingOptions['spanProcessors']>[number];
export type EndedSpan = Parameters<SpanProcessor['onEnd']>[0];

/** A span processor that keeps every ended span, to assert parent/child links. */
export function recordSpans(): { processor: SpanProcessor; spans: EndedSpan[] } {
  const spans: EndedSpan[] = [];
  const processor: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => void spans.push(span),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  return { processor, spans };
}
