import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
/** Every child's stdout and stderr (gitignored): read them when a start fails or a number looks odd. */
export const LOG_DIR = path.join(WORKSPACE_ROOT, 'tools/bench/tmp/logs');

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  /** Milliseconds from spawn() to the first 200 from the ready URL. */
  coldStartMs: number;
  /** Resident set size now (VmRSS of /proc/<pid>/status), in MiB. */
  rssMiB(): Promise<number>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
// Last resort when the bench dies without tearing down: no child keeps ports or database sessions.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts `node <script>` (the same Node binary as this process: Node 24 under `npm run bench`) with
 * its output in LOG_DIR/<name>.log — not piped here, so a busy child's logging costs this process
 * (which also generates the load) nothing — and waits until `readyUrl` answers 200.
 */
export async function startProcess(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  readyUrl: string;
  timeoutMs?: number;
}): Promise<BenchProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${options.name}.log`);
  const fd = openSync(logFile, 'w');
  const started = performance.now();
  const child = spawn(process.execPath, [options.script], {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    live.delete(child);
  });

  const stop = async (timeoutMs = 15_000) => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  const deadline = started + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (hasExited) throw new Error(`${options.name} exited during start-up (log: ${logFile})`);
    const status = await fetch(options.readyUrl, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (performance.now() > deadline) {
      await stop(1_000);
      throw new Error(
        `${options.name} was not ready within ${options.timeoutMs ?? 60_000} ms (log: ${logFile})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const coldStartMs = performance.now() - started;
  return {
    name: options.name,
    child,
    coldStartMs,
    rssMiB: () => rssMiB(child.pid ?? 0),
    stop,
  };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** A helper server of this tool (dist/servers/<name>.js) on the given port. */
export function startHelperServer(name: 'hello-world' | 'openai-loopback', port: number, readyPath = '/') {
  return startProcess({
    name,
    script: path.join(__dirname, 'servers', `${name}.js`),
    env: { PORT: String(port) },
    readyUrl: `http://127.0.0.1:${port}${readyPath}`,
  });
}
