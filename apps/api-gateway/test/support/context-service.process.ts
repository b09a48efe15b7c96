import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createServiceTestEnv,
  freePort,
  spawnService,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';

/** The built context-service, run as its own process: the same binary production runs. */
export const CONTEXT_SERVICE_ENTRY = 'apps/context-service/dist/main.js';
const CONTEXT_SERVICE_SCHEMA = path.resolve(__dirname, '../../../context-service/prisma/schema.prisma');

/**
 * A real context-service with its own migrated database, its own exchange and Redis prefix, on fixed
 * ports picked at creation. It trusts the principal the gateway puts in gRPC metadata, as deployed.
 */
export class ContextServiceProcess {
  private current?: SpawnedService;

  private constructor(
    private readonly testEnv: ServiceTestEnv,
    readonly grpcPort: number,
    readonly httpPort: number,
    /** Its object storage (filesystem driver): uploaded screenshots of the run. */
    readonly storageRoot: string,
    /** More variables, e.g. AI_GATEWAY_SERVICE_ADDR of the test's fake AI gateway. */
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  static async create(extraEnv: Record<string, string> = {}): Promise<ContextServiceProcess> {
    const testEnv = await createServiceTestEnv({
      schemaPath: CONTEXT_SERVICE_SCHEMA,
      databaseName: 'te_context',
      // context-service's own consumer queue, so cleanup removes it (services cannot share imports).
      queues: ['context-service.user-deleted', 'context-service.ocr', 'context-service.replies'],
    });
    const grpcPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === grpcPort) httpPort = await freePort();
    const storageRoot = await mkdtemp(path.join(tmpdir(), 'te-gateway-objects-'));
    return new ContextServiceProcess(testEnv, grpcPort, httpPort, storageRoot, extraEnv);
  }

  /** Its database (sessions, messages). */
  get databaseUrl(): string {
    return this.testEnv.env['DATABASE_URL']!;
  }

  get address(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** Starts the process and waits for its /readyz. */
  async start(): Promise<SpawnedService> {
    this.current = await spawnService({
      name: 'context-service',
      entry: CONTEXT_SERVICE_ENTRY,
      readyPort: this.httpPort,
      readyTimeoutMs: 60_000,
      env: {
        ...this.testEnv.env,
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: String(this.grpcPort),
        HTTP_PORT: String(this.httpPort),
        LOG_LEVEL: 'info',
        DATABASE_POOL_SIZE: '4',
        STORAGE_FS_ROOT: this.storageRoot,
        ...this.extraEnv,
      },
    });
    return this.current;
  }

  /** Stops the process (if running) and removes the database, exchange and Redis keys of the run. */
  async dispose(): Promise<void> {
    try {
      const running = this.current;
      this.current = undefined;
      await running?.stop('SIGTERM', 20_000);
    } finally {
      await this.testEnv.cleanup();
      await rm(this.storageRoot, { recursive: true, force: true });
    }
  }
}
