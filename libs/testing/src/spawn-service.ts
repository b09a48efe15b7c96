import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait-for.js';

export interface SpawnedService {
  name: string;
  process: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logLines(): Record<string, unknown>[];
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface SpawnServiceOptions {
  name: string;
  /** Path of the built entry point relative to the workspace root, e.g. 'apps/user-service/dist/main.js'. */
  entry: string;
  env: Record<string, string>;
  /** Port whose GET /readyz must answer 200 before this resolves. */
  readyPort: number;
  readyTimeoutMs?: number;
}

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

/**
 * Starts a built service as its own Node process (the same binary production runs) and waits until
 * its /readyz answers 200. Fails with the process's output if it exits or never becomes ready.
 */
export async function spawnService(options: SpawnServiceOptions): Promise<SpawnedService> {
  const child = spawn(process.execPath, [path.join(WORKSPACE_ROOT, options.entry)], {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const service: SpawnedService = {
    name: options.name,
    process: child,
    output: () => chunks.join(''),
    logLines: () =>
      chunks
        .join('')
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (hasExited) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  try {
    await waitFor(
      async () => {
        if (hasExited) throw new Error(`${options.name} exited during start-up:\n${service.output()}`);
        const response = await fetch(`http://127.0.0.1:${options.readyPort}/readyz`).catch(() => undefined);
        return response?.status === 200;
      },
      {
        timeoutMs: options.readyTimeoutMs ?? 30_000,
        intervalMs: 100,
        description: `${options.name} to become ready`,
      },
    );
  } catch (error) {
    await service.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- ${options.name} output ---\n${service.output()}`);
  }
  return service;
}
