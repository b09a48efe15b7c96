import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A RabbitMQ node of this test's own (TOOLCHAIN.md "Fault tests"): its own node name, port, data and
 * log directories (owned by the rabbitmq user, which the start script drops to), no plugins. Only this
 * node is ever killed; the machine's broker on 5672 is never touched. Its own config file keeps it off
 * 5672 (the system rabbitmq.conf declares a listener there).
 */
export class FaultBroker {
  private readonly dir: string;
  private pid?: number;

  private constructor(
    readonly nodename: string,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'te-events-faults-'));
  }

  /** 5673 as TOOLCHAIN.md says, or the next free port if a parallel run holds it. */
  static async create(runId: string): Promise<FaultBroker> {
    let port = 5673;
    while (!(await portIsFree(port)) || !(await portIsFree(port + 20000))) port += 1;
    return new FaultBroker(`te_events_${runId}@localhost`, port);
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.nodename,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.port + 20000),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
    };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
    mkdirSync(join(this.dir, 'log'), { recursive: true });
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${this.port}\n`);
    if (process.getuid?.() === 0) await run('chown', ['-R', 'rabbitmq:rabbitmq', this.dir]);
    await run('rabbitmq-server', ['-detached'], { env: this.env });
    await until(() => portAccepts(this.port), `broker ${this.nodename} to listen on ${this.port}`, 60_000);
    const { stdout } = await run('rabbitmqctl', ['-n', this.nodename, 'eval', 'os:getpid().'], {
      env: this.env,
    });
    this.pid = Number(stdout.replace(/\D/g, ''));
  }

  /** kill -9 of this node's own Erlang VM: a crash, no clean close sent to clients. */
  async kill(): Promise<void> {
    if (!this.pid) throw new Error('broker not started');
    process.kill(this.pid, 'SIGKILL');
    this.pid = undefined;
    await until(async () => !(await portAccepts(this.port)), 'the killed broker to stop listening', 10_000);
  }

  /** Simulates a node that comes back with an empty disk (new volume): every queue and exchange is gone. */
  wipeData(): void {
    rmSync(join(this.dir, 'mnesia'), { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    if (this.pid)
      await run('rabbitmqctl', ['-n', this.nodename, 'stop'], { env: this.env }).catch(() => undefined);
    this.pid = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
