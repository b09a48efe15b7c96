import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import {
  createServiceTestEnv,
  freePort,
  spawnService,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';

/** The built user-service, run as its own process: the same binary production runs. */
export const USER_SERVICE_ENTRY = 'apps/user-service/dist/main.js';
const USER_SERVICE_SCHEMA = path.resolve(__dirname, '../../../user-service/prisma/schema.prisma');

/** Issuer and audience both sides are configured with (not the defaults, so config really flows). */
export const JWT_ISSUER = 'https://gateway-tests.te.local';
export const JWT_AUDIENCE = 'te-gateway-tests';

/**
 * A real user-service with its own migrated database, this run's exchange and Redis prefix, fixed
 * ports (so it can be restarted where the gateway expects it) and a signing key the test knows (so
 * tests can mint tokens the gateway must reject for reasons other than the signature, and a restart
 * keeps the key).
 */
export class UserServiceProcess {
  private current?: SpawnedService;
  /** Every process started so far (a restart adds one); their output is kept for assertions. */
  readonly processes: SpawnedService[] = [];

  private constructor(
    private readonly testEnv: ServiceTestEnv,
    readonly grpcPort: number,
    readonly httpPort: number,
    /** EC P-256 private key, PKCS#8 PEM: user-service's JWT_SIGNING_KEY. */
    readonly signingKeyPem: string,
  ) {}

  static async create(): Promise<UserServiceProcess> {
    const testEnv = await createServiceTestEnv({
      schemaPath: USER_SERVICE_SCHEMA,
      databaseName: 'te_user',
      queues: [],
    });
    const grpcPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === grpcPort) httpPort = await freePort();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return new UserServiceProcess(testEnv, grpcPort, httpPort, pem);
  }

  get address(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get service(): SpawnedService {
    if (!this.current) throw new Error('user-service is not running');
    return this.current;
  }

  /** Starts a process (again, after stop()) on the same ports and waits for its /readyz. */
  async start(): Promise<SpawnedService> {
    this.current = await spawnService({
      name: 'user-service',
      entry: USER_SERVICE_ENTRY,
      readyPort: this.httpPort,
      readyTimeoutMs: 60_000,
      env: {
        ...this.testEnv.env,
        HTTP_HOST: '127.0.0.1',
        GRPC_PORT: String(this.grpcPort),
        HTTP_PORT: String(this.httpPort),
        // What production runs: one line per handled call, with its request id.
        LOG_LEVEL: 'info',
        JWT_SIGNING_KEY: this.signingKeyPem,
        JWT_ISSUER,
        JWT_AUDIENCE,
        DATABASE_POOL_SIZE: '4',
      },
    });
    this.processes.push(this.current);
    return this.current;
  }

  /** SIGTERM, as Kubernetes would; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const running = this.current;
    this.current = undefined;
    return running ? running.stop('SIGTERM', 20_000) : null;
  }

  /** Every JSON log line written by every process started so far. */
  logLines(): Record<string, unknown>[] {
    return this.processes.flatMap((process) => process.logLines());
  }

  /** Stops the process (if running) and removes the database, exchange and Redis keys of the run. */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await this.testEnv.cleanup();
    }
  }
}
