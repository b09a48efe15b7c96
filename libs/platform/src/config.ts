import { z } from 'zod';

/**
 * Configuration comes only from the environment, is validated once at start-up, and a bad value stops
 * the process with the full list of problems (not just the first one).
 */
export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];

  constructor(problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // Empty strings mean "unset" so that `FOO=` in a compose file falls back to the default.
  const input = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.join('.') || '(root)',
      message: issue.message,
    })),
  );
}

/** Building blocks for service schemas; each documents its variable through `.describe()`. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  url: () => z.url(),
  milliseconds: (fallback: number) => z.coerce.number().int().min(0).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  boolean: (fallback: boolean) => z.stringbool().default(fallback),
  /** Comma-separated list; empty entries dropped. */
  list: (fallback: string[] = []) =>
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .default(fallback),
};

export const commonConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  SERVICE_VERSION: z.string().default('0.1.0').describe('reported in traces and /healthz'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url()
    .optional()
    .describe('OTLP/HTTP collector; traces are exported when set'),
  SHUTDOWN_GRACE_MS: env.milliseconds(25_000).describe('hard limit for a graceful shutdown'),
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe('how long readiness fails before connections close (default 5000 in production, else 0)'),
  HTTP_HOST: z.string().default('0.0.0.0'),
});

export type CommonConfig = z.infer<typeof commonConfigSchema>;

export function drainDelayMs(config: CommonConfig): number {
  return config.SHUTDOWN_DRAIN_DELAY_MS ?? (config.NODE_ENV === 'production' ? 5_000 : 0);
}
