import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from '@te/testing';

/**
 * A redis-server of the test's own on a free port (TOOLCHAIN.md, "Fault tests"): no persistence, a
 * child of the test process, so `kill()` (SIGKILL, connections drop as in a crash) only ever reaches
 * it, never the machine's Redis on 6379. `start()` again on the same port. An exit handler kills it if
 * the test runner dies before afterAll.
 */
export class OwnRedis {
  private child?: ChildProcess;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(readonly port: number) {}

  static async create(): Promise<OwnRedis> {
    return new OwnRedis(await freePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits for PONG. */
  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    process.removeListener('exit', this.killOnExit);
    process.once('exit', this.killOnExit);
    await waitFor(
      async () => {
        const probe = new Redis({
          port: this.port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'the own Redis to accept connections' },
    );
  }

  /** SIGKILL of this server only; resolves once it has exited. Idempotent. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** afterAll: kill it (nothing is kept). */
  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    await this.kill();
  }
}
