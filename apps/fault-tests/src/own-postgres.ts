import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, runId } from '@te/testing';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of the test's own (TOOLCHAIN.md, "Fault tests"): `initdb` into a temporary
 * directory (trust auth, user postgres), `pg_ctl start` on a free port with its socket in that
 * directory. `crash()` = `pg_ctl stop -m immediate` (every backend killed, no checkpoint: what a
 * crashed server looks like to its clients); `start()` again on the same data. Only this cluster is
 * ever stopped; the machine's server on 5432 is never touched. `stop()` belongs in afterAll; an exit
 * handler kills the postmaster if the test runner dies first.
 */
export class OwnPostgres {
  private readonly dir: string;
  private running = false;
  private readonly killOnExit = () => {
    const pid = this.postmasterPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  private constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), `te-faults-pg-${runId()}-`));
  }

  /** initdb on a free port; starts nothing. */
  static async create(): Promise<OwnPostgres> {
    const server = new OwnPostgres(await freePort());
    if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', server.dir]);
    await server.asPostgres('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    return server;
  }

  /** Superuser URL of the cluster's `postgres` database (createServiceTestEnv's admin URL). */
  get adminUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Starts the cluster (again, after crash()) and waits until it accepts connections (pg_ctl -w). */
  async start(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    process.once('exit', this.killOnExit);
    await this.asPostgres('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    this.running = true;
  }

  /** Starts it unless it runs (clean-up needs it to drop the run's databases). */
  async ensureRunning(): Promise<void> {
    if (!this.running) await this.start();
  }

  /** `pg_ctl stop -m immediate`: every server process exits at once, clients see their sockets close. */
  async crash(): Promise<void> {
    await this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    this.running = false;
  }

  /** The server's own log (for a failure message). */
  logText(): string {
    const file = join(this.dir, 'server.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Stops the cluster (fast, else kill -9 of the postmaster) and removes its directory. Idempotent. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.running) {
      await this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']).catch(() =>
        this.killOnExit(),
      );
    }
    this.running = false;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private postmasterPid(): number | undefined {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** PostgreSQL refuses to run as root: the binaries run as the `postgres` user when the test is root. */
  private asPostgres(binary: string, args: string[]) {
    const program = join(BIN, binary);
    return process.getuid?.() === 0
      ? run('runuser', ['-u', 'postgres', '--', program, ...args], { timeout: 90_000 })
      : run(program, args, { timeout: 90_000 });
  }
}
