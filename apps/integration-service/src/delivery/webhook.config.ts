import { env, type ConfigError } from '@te/platform';
import { z } from 'zod';
import { parseDuration, parseDurationList } from './duration.js';

const duration = (fallback: string, description: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 5m, 2h or 5d' });
        return z.NEVER;
      }
      return ms;
    })
    .describe(description);

/**
 * Outbound webhooks (decision 0022). Durations are `<n>[ms|s|m|h|d]`, a bare number being seconds;
 * tests set them tiny.
 */
export const webhookConfigFragment = {
  WEBHOOK_SECRET_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be 32 bytes, base64 or base64url')
    .optional()
    .describe('AES-256-GCM key that encrypts webhook signing secrets at rest. Required in production'),
  WEBHOOK_SECRET_DECRYPTION_KEYS: env
    .list()
    .describe('retired encryption keys (base64), still read while rows encrypted with them remain'),
  WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400)
    .describe('how long a rotated secret keeps signing beside the new one'),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('0,5s,5m,30m,2h,5h,10h,10h')
    .transform((text, ctx) => {
      const steps = parseDurationList(text);
      if (!steps || steps.length > 20) {
        ctx.addIssue({ code: 'custom', message: 'must be 1 to 20 comma-separated durations (0,5s,5m,…)' });
        return z.NEVER;
      }
      return steps;
    })
    .describe('delay before each attempt, the first counted from the event: one entry per attempt'),
  WEBHOOK_RETRY_AFTER_MAX: duration('10h', 'a receiver’s Retry-After is honoured up to this long'),
  WEBHOOK_DISABLE_AFTER: duration('5d', 'an endpoint whose every attempt failed this long is disabled'),
  WEBHOOK_LOG_RETENTION: duration('30d', 'finished deliveries (and their attempts) are kept this long'),
  WEBHOOK_ALLOWED_DESTINATIONS: env
    .list()
    .describe('CIDRs or host:port the sender may reach despite the SSRF rules (development, tests only)'),
  WEBHOOK_MAX_ENDPOINTS_PER_USER: z.coerce.number().int().min(1).max(1000).default(20),
  WEBHOOK_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  WEBHOOK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
};

/** Rules across variables: a real key, and no allowlist, in production. */
export function webhookConfigProblems(config: {
  NODE_ENV: string;
  WEBHOOK_SECRET_ENCRYPTION_KEY?: string;
  WEBHOOK_ALLOWED_DESTINATIONS: string[];
}): ConfigError['problems'] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: ConfigError['problems'] = [];
  if (!config.WEBHOOK_SECRET_ENCRYPTION_KEY) {
    problems.push({
      variable: 'WEBHOOK_SECRET_ENCRYPTION_KEY',
      message: 'is required in production (webhook secrets are stored encrypted with it)',
    });
  }
  if (config.WEBHOOK_ALLOWED_DESTINATIONS.length > 0) {
    problems.push({
      variable: 'WEBHOOK_ALLOWED_DESTINATIONS',
      message: 'must be empty in production (it lets deliveries reach internal addresses)',
    });
  }
  return problems;
}
