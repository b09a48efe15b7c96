import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ServiceProcess,
  type ServiceProcessOptions,
  type ServiceTestEnv,
  type SpawnedService,
} from '@te/testing';

const LOG_DIR = path.resolve(__dirname, '../tmp/logs');

/** The services these tests run, with the durable queues each declares (removed at clean-up). */
export const SERVICES = {
  'user-service': { databaseName: 'te_user', queues: ['user-service.usage'] },
  'integration-service': {
    databaseName: 'te_integration',
    queues: ['integration-service.platform-events', 'integration-service.event-stream'],
  },
  /** No database (an empty name creates none); its HTTP_PORT is the public API, /readyz included. */
  'api-gateway': { databaseName: '', queues: ['api-gateway.session-revocations'] },
} as const;

export type FaultServiceName = keyof typeof SERVICES;

/** integration-service's idempotent consumer of platform events (its `processed_events.consumer`). */
export const PLATFORM_EVENTS_CONSUMER = 'integration-service.platform-events';

/**
 * A built service as its own process (ServiceProcess: migrated database, the run's exchange, queue and
 * Redis prefixes, fixed ports) that a test may kill with SIGKILL and start again on the same ports and
 * database. `AMQP_URL` in `env` points it at a test's own broker. Logs at debug level, so duplicate
 * deliveries the idempotent consumers skipped are visible.
 */
export class FaultService extends ServiceProcess {
  private constructor(
    readonly name: FaultServiceName,
    options: ServiceProcessOptions,
    testEnv: ServiceTestEnv,
    grpcPort: number,
    httpPort: number,
  ) {
    super(options, testEnv, grpcPort, httpPort);
  }

  /**
   * `databaseAdminUrl`: create and migrate the service's database on another server (a PostgreSQL of
   * the test's own that it will stop) instead of the machine's; clean-up drops it there.
   */
  static async create(
    name: FaultServiceName,
    env: Record<string, string> = {},
    { databaseAdminUrl, label }: { databaseAdminUrl?: string; label?: string } = {},
  ): Promise<FaultService> {
    const options: ServiceProcessOptions = {
      name,
      ...SERVICES[name],
      queues: [...SERVICES[name].queues],
      env: { LOG_LEVEL: 'debug', SHUTDOWN_GRACE_MS: '10000', ...env },
    };
    // createTestDatabase reads TEST_DATABASE_ADMIN_URL when it runs (each test file has its own copy
    // of process.env under Jest); set only for this allocation.
    const previous = process.env['TEST_DATABASE_ADMIN_URL'];
    if (databaseAdminUrl) process.env['TEST_DATABASE_ADMIN_URL'] = databaseAdminUrl;
    try {
      const service = new FaultService(name, options, ...(await ServiceProcess.allocate(options)));
      service.label = label ?? name;
      return service;
    } finally {
      if (databaseAdminUrl) {
        if (previous === undefined) delete process.env['TEST_DATABASE_ADMIN_URL'];
        else process.env['TEST_DATABASE_ADMIN_URL'] = previous;
      }
    }
  }

  private paused = false;
  /** Names its log files (two replicas of one service need two names). */
  private label?: string;

  /** SIGSTOP: the process holds its sockets but answers nothing (a hung or overloaded upstream). */
  pause(): void {
    this.service.process.kill('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.running()?.process.kill('SIGCONT');
  }

  /** The running process, or undefined. */
  running(): SpawnedService | undefined {
    try {
      return this.service;
    } catch {
      return undefined;
    }
  }

  /** kill -9 of the running process: no shutdown hook runs. Resolves once it has exited. */
  async kill(): Promise<SpawnedService> {
    const running = this.service;
    running.process.kill('SIGKILL');
    await running.stop('SIGKILL', 5_000);
    return running;
  }

  /** `/readyz` of the running process (every dependency, RabbitMQ included) answers 200. */
  async ready(): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}/readyz`).catch(() => undefined);
    return response?.status === 200;
  }

  /** Log lines of every process started so far with this `message`. */
  lines(message: string): Record<string, unknown>[] {
    return this.logLines().filter((line) => line['message'] === message);
  }

  /** Each process's whole output to tmp/logs/<file>-<service>-<n>.log (gitignored), kept for a failed run. */
  async writeLogs(file: string): Promise<void> {
    await mkdir(LOG_DIR, { recursive: true });
    await Promise.all(
      this.processes.map((spawned, i) =>
        writeFile(path.join(LOG_DIR, `${file}-${this.label ?? this.name}-${i + 1}.log`), spawned.output()),
      ),
    );
  }
}
