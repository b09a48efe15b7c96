import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  createServiceTestEnv,
  freePort,
  runId,
  spawnService,
  testAmqp,
  type ServiceTestEnv,
  type SpawnedService,
  type TestAmqp,
} from '@te/testing';
import { findLeftovers } from './leftovers.js';
import { parsePrometheusText, type Sample } from './prometheus-text.js';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const LOG_DIR = path.resolve(__dirname, '../tmp/logs');

/**
 * The four backend services, in the order they are listed in docs/architecture.md, with the queues
 * each declares (the `*_QUEUE` constants of its src/events/*.consumer.ts), so teardown removes them.
 */
export const BACKENDS = [
  { name: 'user-service', database: 'te_user', queues: ['user-service.usage'] },
  {
    name: 'context-service',
    database: 'te_context',
    queues: ['context-service.ocr', 'context-service.replies', 'context-service.user-deleted'],
  },
  {
    name: 'ai-gateway-service',
    database: 'te_ai_gateway',
    queues: ['ai-gateway-service.inferences', 'ai-gateway-service.user-deleted'],
  },
  {
    name: 'integration-service',
    database: 'te_integration',
    queues: ['integration-service.platform-events', 'integration-service.event-stream'],
  },
] as const;

/** Edge rate limits no test here reaches (api-gateway, decision 0023-gateway-edge). */
const GENEROUS_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['AUTH', 'UPLOAD', 'INFERENCE', 'DEFAULT', 'IP'].flatMap((name) => [
    [`RATE_LIMIT_${name}_PER_MINUTE`, '100000'],
    [`RATE_LIMIT_${name}_BURST`, '10000'],
  ]),
);

/** The gateway's own queue: session.revoked for its revocation list. */
const GATEWAY_QUEUES = ['api-gateway.session-revocations'];

export type BackendName = (typeof BACKENDS)[number]['name'];
export type ServiceName = BackendName | 'api-gateway';

/** Given to every process as SHUTDOWN_GRACE_MS: a SIGTERM must end in exit 0 well within it. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** Each spawned process must answer /readyz 200 within this (a 2-core machine under load: ~10 s). */
const READY_TIMEOUT_MS = 45_000;
// debug: every step each process took (gRPC calls made, outbox batches, close steps) is in the logs
// teardown writes to tmp/logs/. Assertions look lines up by their fields, not by their level.
const LOG_LEVEL = 'debug';

export interface RunningService {
  name: ServiceName;
  /** /healthz, /readyz (detailed) and /metrics. */
  opsPort: number;
  /** Backends: the gRPC port. */
  grpcPort?: number;
  /** Gateway: the public HTTP port. */
  httpPort?: number;
  env: Record<string, string>;
  process: SpawnedService;
}

/**
 * The five services as separate processes from their builds, each with its own migrated database,
 * all on one per-run exchange, queue prefix and Redis prefix (@te/testing). Created empty so that a
 * failed or timed-out start still leaves a record of everything to remove: `teardown()` waits for
 * `start()` to settle, stops the processes and removes every database, queue, exchange and key.
 */
export class SystemStack {
  readonly amqp: TestAmqp = testAmqp();
  private readonly envs = new Map<ServiceName, ServiceTestEnv>();
  private readonly services = new Map<ServiceName, RunningService>();
  private readonly pools = new Map<BackendName, pg.Pool>();
  private readonly databaseNames: string[] = [];
  /** context-service's STORAGE_FS_ROOT (uploaded screenshots), created by boot(), removed by teardown. */
  private storageDir?: string;
  private readonly usedPorts = new Set<number>();
  private starting?: Promise<void>;
  private tearingDown?: Promise<void>;
  // Last resort if the test runner dies without running afterAll: no orphan keeps ports and databases.
  private readonly killOnExit = () => {
    for (const service of this.services.values()) service.process.process.kill('SIGKILL');
  };

  start(): Promise<void> {
    this.starting ??= this.boot();
    return this.starting;
  }

  private async boot(): Promise<void> {
    process.once('exit', this.killOnExit);
    this.storageDir = await mkdtemp(path.join(tmpdir(), `te-e2e-objects-t${runId()}-`));
    // Databases are created and migrated in parallel; each is recorded as soon as it exists.
    await settleAll(
      BACKENDS.map(async (backend) => {
        const env = await createServiceTestEnv({
          schemaPath: path.join(WORKSPACE_ROOT, 'apps', backend.name, 'prisma/schema.prisma'),
          databaseName: backend.database,
          amqp: this.amqp,
          queues: [...backend.queues],
        });
        this.envs.set(backend.name, env);
        if (env.database) this.databaseNames.push(env.database.name);
      }),
    );
    this.envs.set('api-gateway', await createServiceTestEnv({ amqp: this.amqp, queues: GATEWAY_QUEUES }));

    // Backends first, in parallel except that context-service needs the AI gateway's address (taken
    // from the port it really bound, so a restart on EADDRINUSE cannot leave a stale address behind);
    // nothing calls another service at start-up. The gateway last: its readiness needs user-service's
    // gRPC health and signing keys.
    await settleAll([
      this.startBackend('user-service'),
      this.startBackend('ai-gateway-service').then(() =>
        this.startBackend('context-service', {
          AI_GATEWAY_SERVICE_ADDR: `127.0.0.1:${this.service('ai-gateway-service').grpcPort}`,
          STORAGE_DRIVER: 'filesystem',
          STORAGE_FS_ROOT: this.storageRoot(),
        }),
      ),
      this.startBackend('integration-service', {
        // Deliveries to the tests' webhook receivers on loopback (never allowed in production), retried
        // at once and polled often, so a delivery is seen within a second.
        WEBHOOK_ALLOWED_DESTINATIONS: '127.0.0.0/8',
        WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
        WEBHOOK_POLL_INTERVAL_MS: '100',
      }),
    ]);
    await this.startGateway();
  }

  private async startBackend(name: BackendName, extra: Record<string, string> = {}): Promise<void> {
    const base = withoutKeys(this.env(name).env, ['OPS_PORT']);
    await this.launch(name, ([grpcPort, opsPort]) => ({
      ports: { grpcPort, opsPort },
      env: { ...base, ...extra, GRPC_PORT: String(grpcPort), HTTP_PORT: String(opsPort) },
    }));
  }

  /** context-service's object storage directory: `<root>/users/<user id>/sha256/<hex>.<ext>`. */
  storageRoot(): string {
    if (!this.storageDir) throw new Error('the stack has not been started');
    return this.storageDir;
  }

  private async startGateway(): Promise<void> {
    const base = withoutKeys(this.env('api-gateway').env, ['GRPC_PORT']);
    const userService = `127.0.0.1:${this.service('user-service').grpcPort}`;
    const contextService = `127.0.0.1:${this.service('context-service').grpcPort}`;
    const aiGateway = `127.0.0.1:${this.service('ai-gateway-service').grpcPort}`;
    const integrationService = `127.0.0.1:${this.service('integration-service').grpcPort}`;
    await this.launch('api-gateway', ([httpPort, opsPort]) => ({
      ports: { httpPort, opsPort },
      env: {
        ...base,
        HTTP_PORT: String(httpPort),
        OPS_PORT: String(opsPort),
        USER_SERVICE_ADDR: userService,
        CONTEXT_SERVICE_ADDR: contextService,
        AI_GATEWAY_SERVICE_ADDR: aiGateway,
        INTEGRATION_SERVICE_ADDR: integrationService,
        // Every test signs users up from 127.0.0.1 within seconds: far above the production auth
        // limit per IP, which test/rate-limits.test.ts of api-gateway proves on its own.
        ...GENEROUS_RATE_LIMITS,
      },
    }));
  }

  /**
   * Spawns `apps/<name>/dist/main.js` on two fresh ports and waits for its /readyz. The ports are
   * free when picked but not reserved: if another process takes one first, start again on new ones.
   */
  private async launch(
    name: ServiceName,
    configure: (ports: [number, number]) => {
      ports: { opsPort: number; grpcPort?: number; httpPort?: number };
      env: Record<string, string>;
    },
  ): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const { ports, env } = configure([await this.freshPort(), await this.freshPort()]);
      const fullEnv = {
        ...env,
        LOG_LEVEL,
        HTTP_HOST: '127.0.0.1',
        SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      };
      try {
        const spawned = await spawnService({
          name,
          entry: `apps/${name}/dist/main.js`,
          env: fullEnv,
          readyPort: ports.opsPort,
          readyTimeoutMs: READY_TIMEOUT_MS,
        });
        this.services.set(name, { name, ...ports, env: fullEnv, process: spawned });
        return;
      } catch (error) {
        if (attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
      }
    }
  }

  service(name: ServiceName): RunningService {
    const service = this.services.get(name);
    if (!service) throw new Error(`${name} is not running in this stack`);
    return service;
  }

  /** The public API: `gatewayUrl('/api/v1/auth/register')`. */
  gatewayUrl(pathname: string): string {
    return `http://127.0.0.1:${this.service('api-gateway').httpPort}${pathname}`;
  }

  opsUrl(name: ServiceName, pathname: string): string {
    return `http://127.0.0.1:${this.service(name).opsPort}${pathname}`;
  }

  async metrics(name: ServiceName): Promise<Sample[]> {
    const response = await fetch(this.opsUrl(name, '/metrics'));
    if (response.status !== 200) throw new Error(`${name} /metrics answered ${response.status}`);
    return parsePrometheusText(await response.text());
  }

  /** A query against a backend's own database (a small pool per database, closed on teardown). */
  async query<T extends pg.QueryResultRow>(
    name: BackendName,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    let pool = this.pools.get(name);
    if (!pool) {
      const url = this.env(name).database?.url;
      if (!url) throw new Error(`${name} has no database`);
      pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'system-e2e' });
      this.pools.set(name, pool);
    }
    return (await pool.query<T>(sql, params)).rows;
  }

  logLines(name: ServiceName): Record<string, unknown>[] {
    return this.service(name).process.logLines();
  }

  /** Everything every process has written so far. */
  allOutput(): string {
    return [...this.services.values()].map((service) => service.process.output()).join('\n');
  }

  teardown(): Promise<void> {
    this.tearingDown ??= this.cleanUp();
    return this.tearingDown;
  }

  private async cleanUp(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const problems: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(error);
      }
    };
    // Processes before what they use: a consumer still running would re-declare its deleted queue.
    const gateway = this.services.get('api-gateway');
    if (gateway) await attempt(() => gateway.process.stop('SIGTERM', SHUTDOWN_GRACE_MS + 5_000));
    await Promise.all(
      BACKENDS.map((backend) => this.services.get(backend.name))
        .filter((service) => service !== undefined)
        .map((service) => attempt(() => service.process.stop('SIGTERM', SHUTDOWN_GRACE_MS + 5_000))),
    );
    process.removeListener('exit', this.killOnExit);
    await attempt(() => this.writeLogs());
    for (const pool of this.pools.values()) await attempt(() => pool.end());
    this.pools.clear();
    for (const env of this.envs.values()) await attempt(() => env.cleanup());
    await attempt(() => this.amqp.cleanup());
    const storageDir = this.storageDir;
    if (storageDir) await attempt(() => rm(storageDir, { recursive: true, force: true }));
    if (problems.length > 0) throw new AggregateError(problems, 'system stack teardown failed');
  }

  /** Each process's whole output to tmp/logs/<service>.log (gitignored), kept until the next run. */
  private async writeLogs(): Promise<void> {
    await mkdir(LOG_DIR, { recursive: true });
    for (const service of this.services.values()) {
      await writeFile(path.join(LOG_DIR, `${service.name}.log`), service.process.output());
    }
  }

  /**
   * What teardown should have removed and did not (databases, Redis keys, exchange, queues and the
   * storage directory of this run): empty when the machine is as clean as before the run.
   */
  leftovers(): Promise<string[]> {
    const gateway = this.envs.get('api-gateway')?.env;
    return findLeftovers({
      databaseNames: this.databaseNames,
      redisUrl: gateway?.['REDIS_URL'],
      redisPrefix: gateway?.['REDIS_KEY_PREFIX'],
      amqp: this.amqp,
      queues: [...BACKENDS.flatMap((backend) => [...backend.queues]), ...GATEWAY_QUEUES],
      directories: this.storageDir ? [this.storageDir] : [],
    });
  }

  private env(name: ServiceName): ServiceTestEnv {
    const env = this.envs.get(name);
    if (!env) throw new Error(`no test environment for ${name}`);
    return env;
  }

  // Every child needs its ports before it starts; freePort() may hand out a port twice in a row.
  private async freshPort(): Promise<number> {
    for (;;) {
      const port = await freePort();
      if (!this.usedPorts.has(port)) {
        this.usedPorts.add(port);
        return port;
      }
    }
  }
}

/** Like Promise.all, but waits for every promise (so nothing still runs after a failure) before rejecting. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failures = results
    .filter((result) => result.status === 'rejected')
    .map((result) => result.reason as unknown);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, failures.map((f) => (f as Error).message).join('\n\n'));
}

function withoutKeys(env: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !keys.includes(key)));
}
