import path from 'node:path';
import {
  createServiceTestEnv,
  freePort,
  spawnService,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';

/** The built ai-gateway-service, run as its own process: the same binary production runs. */
export const AI_GATEWAY_SERVICE_ENTRY = 'apps/ai-gateway-service/dist/main.js';
const AI_GATEWAY_SERVICE_SCHEMA = path.resolve(__dirname, '../../../ai-gateway-service/prisma/schema.prisma');

/**
 * A real ai-gateway-service with its own migrated database (seeded at start: the local provider's
 * `local-explainer@1` behind `explainer` and `explainer@stable`), its own exchange and Redis prefix,
 * on fixed ports picked at creation. It trusts the principal the gateway puts in gRPC metadata.
 */
export class AiGatewayServiceProcess {
  private current?: SpawnedService;

  private constructor(
    private readonly testEnv: ServiceTestEnv,
    readonly grpcPort: number,
    readonly httpPort: number,
  ) {}

  static async create(): Promise<AiGatewayServiceProcess> {
    const testEnv = await createServiceTestEnv({
      schemaPath: AI_GATEWAY_SERVICE_SCHEMA,
      databaseName: 'te_ai_gateway',
      // its own consumer queue, so cleanup removes it (services cannot share imports)
      queues: ['ai-gateway-service.registry'],
    });
    const grpcPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === grpcPort) httpPort = await freePort();
    return new AiGatewayServiceProcess(testEnv, grpcPort, httpPort);
  }

  /** Its database (the model registry). */
  get databaseUrl(): string {
    return this.testEnv.env['DATABASE_URL']!;
  }

  get address(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** Starts the process and waits for its /readyz. */
  async start(): Promise<SpawnedService> {
    this.current = await spawnService({
      name: 'ai-gateway-service',
      entry: AI_GATEWAY_SERVICE_ENTRY,
      readyPort: this.httpPort,
      readyTimeoutMs: 60_000,
      env: {
        ...this.testEnv.env,
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: String(this.grpcPort),
        HTTP_PORT: String(this.httpPort),
        LOG_LEVEL: 'info',
        DATABASE_POOL_SIZE: '4',
        AI_PROVIDERS: 'local',
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
    }
  }
}
