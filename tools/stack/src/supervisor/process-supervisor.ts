import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { ExitReport } from './exit-report.js';
import { describeExit } from './exit-report.js';
import { probeReadiness } from './readiness-probe.js';

/** A process to run and the URL that answers 200 once it is ready. */
export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  readyUrl: string;
}

export interface SupervisorOptions {
  /** Receives every line a child prints, already labelled, on the stream it was printed to. */
  write(line: string, stream: 'stdout' | 'stderr'): void;
  /** Labels one raw output line of a child. */
  format(name: string, line: string): string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  pollIntervalMs?: number;
  /** How many of a child's last lines a failure report shows. */
  tailLines?: number;
  /** A child ended while the stack was running (not during its start-up, not during stop()). */
  onUnexpectedExit?(report: ExitReport, tail: string[]): void;
}

export interface StartFailure {
  name: string;
  reason: string;
  /** The child's last output lines, labelled. */
  tail: string[];
}

export class StartupError extends Error {
  override readonly name = 'StartupError';

  constructor(readonly failures: StartFailure[]) {
    super(failures.map((failure) => `${failure.name}: ${failure.reason}`).join('; '));
  }
}

interface SupervisedChild {
  spec: ChildSpec;
  process: ChildProcess;
  state: 'starting' | 'running' | 'stopping' | 'exited';
  tail: string[];
  forced: boolean;
  exit?: ExitReport;
  exited: Promise<ExitReport>;
}

/**
 * Runs child processes in waves: each wave starts in parallel and must become ready before the
 * caller starts the next; stop() ends them wave by wave in reverse (SIGTERM, then SIGKILL at the
 * deadline). Children get their own process group, so a Ctrl-C in the terminal reaches only the
 * runner, which then stops them in order.
 */
export class ProcessSupervisor {
  private readonly waves: SupervisedChild[][] = [];
  private stopping?: Promise<ExitReport[]>;
  private readonly pollIntervalMs: number;
  private readonly tailLines: number;
  // If the runner itself exits abruptly, its detached children must not outlive it.
  private readonly onRunnerExit = (): void => {
    for (const child of this.liveChildren()) child.process.kill('SIGTERM');
  };

  constructor(private readonly options: SupervisorOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.tailLines = options.tailLines ?? 30;
    process.on('exit', this.onRunnerExit);
  }

  /** Starts every spec at once and resolves when all are ready; rejects with a StartupError otherwise. */
  async startWave(specs: ChildSpec[]): Promise<void> {
    if (this.stopping)
      throw new StartupError(
        specs.map((spec) => ({ name: spec.name, reason: 'the stack is stopping', tail: [] })),
      );
    const wave = specs.map((spec) => this.spawnChild(spec));
    this.waves.push(wave);
    const failures = (await Promise.all(wave.map((child) => this.waitUntilReady(child)))).filter(
      (failure): failure is StartFailure => failure !== undefined,
    );
    if (failures.length > 0) throw new StartupError(failures);
  }

  /** Ends every child, the last wave first; resolves with each child's exit, in start order. Idempotent. */
  stop(): Promise<ExitReport[]> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /** SIGKILL for every child still running (a second Ctrl-C). */
  kill(): void {
    for (const child of this.liveChildren()) {
      child.state = 'stopping';
      child.forced = true;
      child.process.kill('SIGKILL');
    }
  }

  /** Names of the children that have not exited. */
  running(): string[] {
    return this.liveChildren().map((child) => child.spec.name);
  }

  private async stopAll(): Promise<ExitReport[]> {
    const deadline = Date.now() + this.options.stopTimeoutMs;
    for (const wave of [...this.waves].reverse()) {
      for (const child of wave) {
        if (child.exit) continue;
        child.state = 'stopping';
        child.process.kill('SIGTERM');
      }
      const inTime = await settlesWithin(
        Promise.all(wave.map((child) => child.exited)),
        deadline - Date.now(),
      );
      if (!inTime) {
        // Past the deadline: nothing left gets more time, whichever wave it is in.
        this.kill();
        break;
      }
    }
    const reports = await Promise.all(this.waves.flat().map((child) => child.exited));
    process.off('exit', this.onRunnerExit);
    return reports;
  }

  private spawnChild(spec: ChildSpec): SupervisedChild {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let resolveExited: (report: ExitReport) => void = () => undefined;
    const supervised: SupervisedChild = {
      spec,
      process: child,
      state: 'starting',
      tail: [],
      forced: false,
      exited: new Promise<ExitReport>((resolve) => (resolveExited = resolve)),
    };
    const finish = (report: ExitReport): void => {
      if (supervised.exit) return;
      supervised.exit = report;
      const previous = supervised.state;
      supervised.state = 'exited';
      resolveExited(report);
      if (previous === 'running') this.options.onUnexpectedExit?.(report, [...supervised.tail]);
    };
    // 'close' comes after the child's output has been read to the end, so its last lines print first.
    child.on('close', (code, signal) => finish({ name: spec.name, code, signal, forced: supervised.forced }));
    child.on('error', (error) =>
      finish({ name: spec.name, code: null, signal: null, forced: false, error: error.message }),
    );
    this.pipeLines(supervised, child.stdout, 'stdout');
    this.pipeLines(supervised, child.stderr, 'stderr');
    return supervised;
  }

  private pipeLines(
    child: SupervisedChild,
    stream: NodeJS.ReadableStream | null,
    kind: 'stdout' | 'stderr',
  ): void {
    if (!stream) return;
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      const labelled = this.options.format(child.spec.name, line);
      child.tail.push(labelled);
      if (child.tail.length > this.tailLines) child.tail.shift();
      this.options.write(labelled, kind);
    });
  }

  private async waitUntilReady(child: SupervisedChild): Promise<StartFailure | undefined> {
    const { readyUrl, name } = child.spec;
    const deadline = Date.now() + this.options.readyTimeoutMs;
    const failure = (reason: string): StartFailure => ({ name, reason, tail: [...child.tail] });
    let lastAnswer = 'no answer yet';
    for (;;) {
      if (child.exit) return failure(`exited before it was ready (${describeExit(child.exit)})`);
      if (this.stopping) return failure('start-up interrupted');
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        return failure(
          `not ready after ${Math.round(this.options.readyTimeoutMs / 1000)} s (${readyUrl}: ${lastAnswer})`,
        );
      }
      // At least 250 ms per probe: one squeezed by the deadline would report its own timeout instead
      // of what the service last answered.
      const outcome = await probeReadiness(readyUrl, Math.max(250, Math.min(2_000, remaining)));
      if (outcome.ready) {
        // A probe that raced the child's exit (another process on the port?) does not count.
        if (child.exit) return failure(`exited before it was ready (${describeExit(child.exit)})`);
        // From now on an exit is unexpected, even while the rest of its wave is still starting.
        child.state = 'running';
        return undefined;
      }
      lastAnswer = outcome.reason;
      await settlesWithin(child.exited, Math.min(this.pollIntervalMs, deadline - Date.now()));
    }
  }

  private liveChildren(): SupervisedChild[] {
    return this.waves.flat().filter((child) => !child.exit);
  }
}

/** Waits for `promise` at most `ms`; true when it settled in time. Leaves no timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>(
    (resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))),
  );
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
