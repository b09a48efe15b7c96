import path from 'node:path';

/** What `npm start` reads from the environment (documented in tools/stack/README.md). */
export interface StackConfig {
  /** The monorepo root: services run with it as their working directory. */
  rootDir: string;
  /** A PostgreSQL role that may create databases; each service's database is this URL with another path. */
  databaseAdminUrl: string;
  redisUrl: string;
  amqpUrl: string;
  /** NODE_ENV handed to the services (development unless set). */
  nodeEnv: string;
  infraTimeoutMs: number;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  /** null: pretty when stdout is a terminal. */
  prettyLogs: boolean | null;
}

export const DEFAULTS = {
  databaseAdminUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
  infraTimeoutMs: 3_000,
  readyTimeoutMs: 60_000,
  stopTimeoutMs: 30_000,
} as const;

/** tools/stack/dist/main.js (or src/main.ts under Jest) → the repository root three levels up. */
export const DEFAULT_ROOT_DIR = path.resolve(__dirname, '..', '..', '..');

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
}

export function loadStackConfig(
  env: NodeJS.ProcessEnv = process.env,
  rootDir = DEFAULT_ROOT_DIR,
): StackConfig {
  const problems: string[] = [];
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const value = nonEmpty(env[name]) ?? fallback;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) problems.push(`${name} must use ${protocols.join(' or ')}//`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return value;
  };
  const millis = (name: string, fallback: number): number => {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0)
      problems.push(`${name} must be a positive integer (milliseconds), got "${raw}"`);
    return value;
  };
  const config: StackConfig = {
    rootDir,
    databaseAdminUrl: url('DATABASE_ADMIN_URL', DEFAULTS.databaseAdminUrl, ['postgresql:', 'postgres:']),
    redisUrl: url('REDIS_URL', DEFAULTS.redisUrl, ['redis:', 'rediss:']),
    amqpUrl: url('AMQP_URL', DEFAULTS.amqpUrl, ['amqp:', 'amqps:']),
    nodeEnv: nonEmpty(env['NODE_ENV']) ?? 'development',
    infraTimeoutMs: millis('STACK_INFRA_TIMEOUT_MS', DEFAULTS.infraTimeoutMs),
    readyTimeoutMs: millis('STACK_READY_TIMEOUT_MS', DEFAULTS.readyTimeoutMs),
    stopTimeoutMs: millis('STACK_STOP_TIMEOUT_MS', DEFAULTS.stopTimeoutMs),
    prettyLogs: flag(env['STACK_PRETTY_LOGS']),
  };
  if (problems.length > 0)
    throw new StackConfigError(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return config;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function flag(value: string | undefined): boolean | null {
  const v = nonEmpty(value)?.toLowerCase();
  if (v === undefined) return null;
  return !['0', 'false', 'no', 'off'].includes(v);
}
