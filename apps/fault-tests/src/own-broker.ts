import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runId, waitFor } from '@te/testing';

const run = promisify(execFile);
/**
 * TOOLCHAIN.md's example is 5673; libs/events' own fault tests start there and may run at the same
 * time under `npm test` (nx --parallel=2), so these nodes start a few ports higher.
 */
const FIRST_PORT = 5680;
/** Erlang distribution port = AMQP port + this (5680 → 25680, as TOOLCHAIN.md pairs 5673 with 25673). */
const DIST_OFFSET = 20_000;

/**
 * A RabbitMQ node of the test's own (TOOLCHAIN.md, "Fault tests: kill only servers the test
 * started"): its own node name, AMQP port (5680 or the next free one), distribution port, data and log
 * directories (owned by the rabbitmq user, which the start script drops to), no plugins, and a config
 * file that keeps it off 5672. Only this node is ever killed, by the pid it reported; the machine's
 * broker is never touched. `stop()` belongs in afterAll; an exit handler SIGKILLs the node if the test
 * runner dies first.
 */
export class OwnBroker {
  private readonly dir: string;
  private pidOfNode?: number;
  /** Started and not killed or stopped since (its pid may not be known yet): stop() has work to do. */
  private maybeRunning = false;
  private readonly killOnExit = () => {
    if (this.pidOfNode) {
      try {
        process.kill(this.pidOfNode, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  private constructor(
    readonly nodename: string,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `te-faults-broker-${runId()}-`));
  }

  /** Picks the first free port from 5680 (and its distribution port); starts nothing. */
  static async create(label: string): Promise<OwnBroker> {
    let port = FIRST_PORT;
    while (!(await portIsFree(port)) || !(await portIsFree(port + DIST_OFFSET))) port += 1;
    return new OwnBroker(`te_faults_${label}_${runId()}@localhost`, port);
  }

  /** For the services under test: heartbeats every 5 s, so a half-open connection is noticed quickly. */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}?heartbeat=5`;
  }

  /** The Erlang VM's process id (undefined while down). */
  get pid(): number | undefined {
    return this.pidOfNode;
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.nodename,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.port + DIST_OFFSET),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
    };
  }

  /** Starts the node (again, on the same data after kill()) and waits until it accepts AMQP. */
  async start(): Promise<void> {
    if (this.pidOfNode) throw new Error(`${this.nodename} is already running`);
    mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
    mkdirSync(join(this.dir, 'log'), { recursive: true });
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${this.port}\n`);
    if (process.getuid?.() === 0) await run('chown', ['-R', 'rabbitmq:rabbitmq', this.dir]);
    this.maybeRunning = true;
    process.removeListener('exit', this.killOnExit);
    process.once('exit', this.killOnExit);
    await run('rabbitmq-server', ['-detached'], { env: this.env });
    await waitFor(() => portAccepts(this.port), {
      timeoutMs: 90_000,
      intervalMs: 200,
      description: `broker ${this.nodename} to listen on ${this.port}`,
    });
    const { stdout } = await run('rabbitmqctl', ['-n', this.nodename, 'eval', 'os:getpid().'], {
      env: this.env,
      timeout: 30_000,
    });
    this.pidOfNode = Number(stdout.replace(/\D/g, ''));
  }

  /** kill -9 of this node's own Erlang VM: a crash, no clean close sent to any client. */
  async kill(): Promise<void> {
    const pid = this.pidOfNode;
    if (!pid) throw new Error(`${this.nodename} is not running`);
    process.kill(pid, 'SIGKILL');
    this.pidOfNode = undefined;
    this.maybeRunning = false;
    await waitFor(async () => !(await portAccepts(this.port)), {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: 'the killed broker to stop listening',
    });
  }

  /** The node's own log (for a failure message). */
  logText(): string {
    const logDir = join(this.dir, 'log');
    if (!existsSync(logDir)) return '';
    return readdirSync(logDir)
      .filter((name) => name.endsWith('.log'))
      .map((name) => readFileSync(join(logDir, name), 'utf8'))
      .join('\n');
  }

  /** Stops the node (rabbitmqctl stop, else kill -9 of its pid) and removes its directories. Idempotent. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.maybeRunning) {
      const stopped = await run('rabbitmqctl', ['-n', this.nodename, 'stop'], {
        env: this.env,
        timeout: 60_000,
      }).then(
        () => true,
        () => false,
      );
      if (!stopped) this.killOnExit();
    }
    this.maybeRunning = false;
    this.pidOfNode = undefined;
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
