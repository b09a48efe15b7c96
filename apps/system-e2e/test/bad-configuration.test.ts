import { spawn } from 'node:child_process';
import path from 'node:path';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const EXIT_TIMEOUT_MS = 20_000;

interface StartResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a built service with only `env` (plus PATH) and resolves when it exits, killing it if it does not. */
function runUntilExit(entry: string, env: Record<string, string>): Promise<StartResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(WORKSPACE_ROOT, entry)], {
      cwd: WORKSPACE_ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: chunks.join('') });
    });
  });
}

const BAD_BACKEND = { GRPC_PORT: '70000', DATABASE_URL: 'not-a-url' };

const CASES = [
  { service: 'user-service', env: BAD_BACKEND },
  { service: 'context-service', env: BAD_BACKEND },
  { service: 'ai-gateway-service', env: BAD_BACKEND },
  { service: 'integration-service', env: BAD_BACKEND },
  { service: 'api-gateway', env: { HTTP_PORT: '70000', OPS_PORT: 'not-a-port' } },
];

describe('Start-up with a bad configuration', () => {
  // Concurrent: each case is a short-lived process that only loads its modules and validates.
  it.concurrent.each(CASES)(
    'When $service starts with $env, then it exits with code 1 and its output names both variables',
    async ({ service, env }) => {
      const result = await runUntilExit(`apps/${service}/dist/main.js`, { NODE_ENV: 'test', ...env });

      expect(result.signal).toBeNull();
      expect(result.code).toBe(1);
      for (const variable of Object.keys(env)) expect(result.output).toContain(variable);
      // The list of problems, not a crash: no stack trace.
      expect(result.output).toMatch(/Invalid configuration \(2 problems\)/);
      expect(result.output).not.toMatch(/^\s+at /m);
    },
    EXIT_TIMEOUT_MS + 5_000,
  );
});
