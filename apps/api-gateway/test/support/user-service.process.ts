import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  createServiceTestEnv,
  freePort,
  spawnService,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';
import { readSigningKey } from './signing-keys.js';
import type { TestKey } from './tokens.js';

/** The built user-service, run as its own process: the same binary production runs. */
export const USER_SERVICE_ENTRY = 'apps/user-service/dist/main.js';
const USER_SERVICE_SCHEMA = path.resolve(__dirname, '../../../user-service/prisma/schema.prisma');

/** Issuer and audience both sides are configured with (not the defaults, so config really flows). */
export const JWT_ISSUER = 'https://gateway-tests.te.local';
export const JWT_AUDIENCE = 'te-gateway-tests';

/**
 * A real user-service with its own migrated database, this run's exchange and Redis prefix, fixed
 * ports (so it can be restarted where the gateway expects it) and a key-encryption key the test knows,
 * so it can read user-service's signing keys from the database and mint tokens the gateway must reject
 * for reasons other than the signature (the key ring lives in the database: a restart keeps it).
 */
export class UserServiceProcess {
  private current?: SpawnedService;
  /** Every process started so far (a restart adds one); their output is kept for assertions. */
  readonly processes: SpawnedService[] = [];

  private constructor(
    private readonly testEnv: ServiceTestEnv,
    readonly grpcPort: number,
    readonly httpPort: number,
    /** user-service's SIGNING_KEY_ENCRYPTION_KEY (base64url). */
    readonly keyEncryptionKey: string,
    /** Extra environment for the process (e.g. short key-ring intervals). */
    private readonly overrides: Record<string, string>,
  ) {}

  static async create(overrides: Record<string, string> = {}): Promise<UserServiceProcess> {
    const testEnv = await createServiceTestEnv({
      schemaPath: USER_SERVICE_SCHEMA,
      databaseName: 'te_user',
      // user-service's own consumer queue, so cleanup removes it (services cannot share imports).
      queues: ['user-service.usage'],
    });
    const grpcPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === grpcPort) httpPort = await freePort();
    return new UserServiceProcess(
      testEnv,
      grpcPort,
      httpPort,
      randomBytes(32).toString('base64url'),
      overrides,
    );
  }

  /** Its database (the signing key ring, sessions, the audit log). */
  get databaseUrl(): string {
    return this.testEnv.env['DATABASE_URL']!;
  }

  /** The key user-service signs with now (or the one with this kid), decrypted from its database. */
  signingKey(which: 'current' | { kid: string } = 'current'): Promise<TestKey> {
    return readSigningKey(this.databaseUrl, this.keyEncryptionKey, which);
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
        SIGNING_KEY_ENCRYPTION_KEY: this.keyEncryptionKey,
        JWT_ISSUER,
        JWT_AUDIENCE,
        DATABASE_POOL_SIZE: '4',
        ...this.overrides,
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
