import path from 'node:path';
import { freePort } from './free-port.js';
import { createServiceTestEnv, type ServiceTestEnv } from './service-test-env.js';
import { spawnService, type SpawnedService } from './spawn-service.js';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

export interface ServiceProcessOptions {
  /** The app's name, also its folder under apps/: 'user-service'. */
  name: string;
  /** Its database name before the run's suffix: 'te_user'. */
  databaseName: string;
  /** Its durable consumer queues, so the run's clean-up removes them (apps cannot import each other). */
  queues?: string[];
  /** Extra environment (provider lists, signing keys, short intervals …); wins over the defaults. */
  env?: Record<string, string>;
  /** How long start() waits for /readyz (default 60 s: the first start migrates a database). */
  readyTimeoutMs?: number;
}

/**
 * A built service run as its own process — the same binary production runs — with its own migrated
 * database, the run's exchange and Redis prefix, and gRPC and ops ports fixed at creation, so it can be
 * stopped and started again where its callers expect it. For tests of the services that call it.
 */
export class ServiceProcess {
  /** Every process started so far (a restart adds one); their output is kept for assertions. */
  readonly processes: SpawnedService[] = [];
  private current?: SpawnedService;

  protected constructor(
    private readonly options: ServiceProcessOptions,
    private readonly testEnv: ServiceTestEnv,
    readonly grpcPort: number,
    readonly httpPort: number,
  ) {}

  /** Creates the run's database (migrated), exchange and Redis prefix and picks the ports; starts nothing. */
  static async prepare(options: ServiceProcessOptions): Promise<ServiceProcess> {
    return new ServiceProcess(options, ...(await ServiceProcess.allocate(options)));
  }

  protected static async allocate(options: ServiceProcessOptions): Promise<[ServiceTestEnv, number, number]> {
    const testEnv = await createServiceTestEnv({
      schemaPath: path.join(WORKSPACE_ROOT, 'apps', options.name, 'prisma/schema.prisma'),
      databaseName: options.databaseName,
      queues: options.queues ?? [],
    });
    const grpcPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === grpcPort) httpPort = await freePort();
    return [testEnv, grpcPort, httpPort];
  }

  get address(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get databaseUrl(): string {
    return this.testEnv.env['DATABASE_URL']!;
  }

  /** The running process (throws when stopped). */
  get service(): SpawnedService {
    if (!this.current) throw new Error(`${this.options.name} is not running`);
    return this.current;
  }

  /** Starts a process (again, after stop()) on the same ports and waits for its /readyz. */
  async start(): Promise<SpawnedService> {
    this.current = await spawnService({
      name: this.options.name,
      entry: `apps/${this.options.name}/dist/main.js`,
      readyPort: this.httpPort,
      readyTimeoutMs: this.options.readyTimeoutMs ?? 60_000,
      env: {
        ...this.testEnv.env,
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: String(this.grpcPort),
        HTTP_PORT: String(this.httpPort),
        // What production runs: one line per handled call, with its request id.
        LOG_LEVEL: 'info',
        DATABASE_POOL_SIZE: '4',
        ...this.options.env,
      },
    });
    this.processes.push(this.current);
    return this.current;
  }

  /** SIGTERM, as Kubernetes would; resolves with the exit code (null when none was running). */
  async stop(): Promise<number | null> {
    const running = this.current;
    this.current = undefined;
    return running ? running.stop('SIGTERM', 20_000) : null;
  }

  /** Every JSON log line written by every process started so far. */
  logLines(): Record<string, unknown>[] {
    return this.processes.flatMap((process) => process.logLines());
  }

  /** Stops the process (if running) and removes the database, exchange, queues and Redis keys of the run. */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await this.testEnv.cleanup();
    }
  }
}
