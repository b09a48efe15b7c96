import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServiceTestEnv, freePort, runId, testAmqp, type ServiceTestEnv } from '@te/testing';
import { startProcess, WORKSPACE_ROOT, type BenchProcess } from './processes.js';

/** The services in start order, with their databases and the queues they declare (for clean-up). */
const SERVICES = [
  { name: 'user-service', database: 'te_user', queues: ['user-service.usage'] },
  {
    name: 'ai-gateway-service',
    database: 'te_ai_gateway',
    queues: ['ai-gateway-service.inferences', 'ai-gateway-service.user-deleted'],
  },
  {
    name: 'context-service',
    database: 'te_context',
    queues: ['context-service.ocr', 'context-service.replies', 'context-service.user-deleted'],
  },
  {
    name: 'integration-service',
    database: 'te_integration',
    queues: ['integration-service.platform-events', 'integration-service.event-stream'],
  },
  { name: 'api-gateway', database: undefined, queues: ['api-gateway.session-revocations'] },
] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];
export const SERVICE_NAMES: ServiceName[] = SERVICES.map((service) => service.name);

/** The gateway's edge limits set far above what the bench sends (they are still evaluated, in Redis). */
const UNREACHED_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['AUTH', 'UPLOAD', 'INFERENCE', 'DEFAULT', 'IP'].flatMap((name) => [
    [`RATE_LIMIT_${name}_PER_MINUTE`, '100000000'],
    [`RATE_LIMIT_${name}_BURST`, '10000000'],
  ]),
);

export interface RunningService {
  name: ServiceName;
  process: BenchProcess;
  /** gRPC port (backends) or public HTTP port (gateway). */
  port: number;
  opsPort: number;
  /** VmRSS one second after /readyz first answered 200, before any load. */
  idleRssMiB: number;
  database?: string;
}

/**
 * The services as separate processes from their builds (like `npm start`), each with its own
 * migrated database, on this run's exchange, queue prefix and Redis prefix (@te/testing), on free
 * ports, started one after another so each cold start is timed on an otherwise idle machine.
 * `teardown()` stops them and removes every database, queue, exchange and key, also after a failure.
 */
export class BenchStack {
  readonly amqp = testAmqp();
  private readonly envs = new Map<ServiceName, ServiceTestEnv>();
  private readonly running = new Map<ServiceName, RunningService>();
  private storageDir?: string;
  /** The loopback OpenAI-compatible provider ai-gateway-service is given (scenario 4), if any. */
  aiProviderOrigin?: string;

  /** Starts the named services (and those they need) that are not running yet, in start order. */
  async ensure(names: ServiceName[]): Promise<void> {
    const wanted = new Set(names);
    if (wanted.has('api-gateway')) wanted.add('user-service');
    if (wanted.has('context-service')) wanted.add('ai-gateway-service');
    for (const service of SERVICES) {
      if (wanted.has(service.name) && !this.running.has(service.name)) await this.start(service);
    }
  }

  service(name: ServiceName): RunningService {
    const service = this.running.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service;
  }

  all(): RunningService[] {
    return SERVICE_NAMES.flatMap((name) => this.running.get(name) ?? []);
  }

  gatewayUrl(pathname: string): string {
    return `http://127.0.0.1:${this.service('api-gateway').port}${pathname}`;
  }

  private async start(service: (typeof SERVICES)[number]): Promise<void> {
    const env = await createServiceTestEnv({
      ...(service.database
        ? {
            schemaPath: path.join(WORKSPACE_ROOT, 'apps', service.name, 'prisma/schema.prisma'),
            databaseName: service.database,
          }
        : {}),
      amqp: this.amqp,
      queues: [...service.queues],
    });
    this.envs.set(service.name, env);
    const [port, opsPort] = await twoPorts();
    const isGateway = service.name === 'api-gateway';
    const ports: Record<string, string> = isGateway
      ? { HTTP_PORT: String(port), OPS_PORT: String(opsPort) }
      : { GRPC_PORT: String(port), HTTP_PORT: String(opsPort) };
    const processEnv = {
      ...env.env,
      ...ports,
      ...(await this.serviceEnv(service.name)),
      // What production runs: info logs (one access-log line per request), no debug.
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '10000',
    };
    const started = await startProcess({
      name: service.name,
      script: path.join(WORKSPACE_ROOT, 'apps', service.name, 'dist/main.js'),
      env: processEnv,
      readyUrl: `http://127.0.0.1:${opsPort}/readyz`,
    });
    const running: RunningService = {
      name: service.name,
      process: started,
      port,
      opsPort,
      idleRssMiB: 0,
      ...(env.database ? { database: env.database.name } : {}),
    };
    this.running.set(service.name, running);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    running.idleRssMiB = await started.rssMiB();
  }

  private async serviceEnv(name: ServiceName): Promise<Record<string, string>> {
    const address = (service: ServiceName) =>
      this.running.has(service)
        ? { [`${addressVariable(service)}`]: `127.0.0.1:${this.service(service).port}` }
        : {};
    switch (name) {
      case 'user-service':
        return {};
      case 'ai-gateway-service':
        return {
          ...(this.aiProviderOrigin
            ? {
                AI_PROVIDERS: 'local,loop',
                AI_PROVIDER_LOOP_KIND: 'openai',
                AI_PROVIDER_LOOP_BASE_URL: `${this.aiProviderOrigin}/v1`,
                AI_PROVIDER_LOOP_API_KEY: 'sk-bench',
                AI_PROVIDER_LOOP_MAX_CONCURRENCY: '64',
              }
            : {}),
          // The budget is still reserved and settled in Redis for each call; it is only never exhausted.
          AI_TOKEN_BUDGET_PER_DAY: '1000000000000',
        };
      case 'context-service':
        this.storageDir ??= await mkdtemp(path.join(tmpdir(), `te-bench-objects-t${runId()}-`));
        return {
          ...address('ai-gateway-service'),
          STORAGE_DRIVER: 'filesystem',
          STORAGE_FS_ROOT: this.storageDir,
        };
      case 'integration-service':
        return { WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64url') };
      case 'api-gateway':
        return {
          ...address('user-service'),
          ...address('context-service'),
          ...address('ai-gateway-service'),
          ...address('integration-service'),
          ...UNREACHED_RATE_LIMITS,
        };
    }
  }

  /** Stops the gateway, then the backends; then removes databases, keys, queues and the exchange. */
  async teardown(): Promise<void> {
    const problems: unknown[] = [];
    const attempt = (step: () => Promise<unknown>) =>
      step().catch((error: unknown) => void problems.push(error));
    const gateway = this.running.get('api-gateway');
    if (gateway) await attempt(() => gateway.process.stop());
    await Promise.all(
      [...this.running.values()]
        .filter((service) => service !== gateway)
        .map((service) => attempt(() => service.process.stop())),
    );
    this.running.clear();
    for (const env of this.envs.values()) await attempt(() => env.cleanup());
    this.envs.clear();
    await attempt(() => this.amqp.cleanup());
    const storageDir = this.storageDir;
    if (storageDir) await attempt(() => rm(storageDir, { recursive: true, force: true }));
    if (problems.length > 0) throw new AggregateError(problems, 'bench stack teardown failed');
  }
}

function addressVariable(name: ServiceName): string {
  return `${name
    .replace(/-service$/, '')
    .replace(/-/g, '_')
    .toUpperCase()}_SERVICE_ADDR`;
}

async function twoPorts(): Promise<[number, number]> {
  const first = await freePort();
  let second = await freePort();
  while (second === first) second = await freePort();
  return [first, second];
}
