import { env, loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import { z } from 'zod';

/** Every variable context-service reads (the common service ones plus its own). Start-up lists each bad one. */
export const contextServiceConfigSchema = serviceConfigSchema({
  name: 'context-service',
  grpcPort: 50052,
  httpPort: 8082,
  database: 'te_context',
}).extend({
  // Lifecycle.
  SESSION_RETENTION_DAYS: env
    .positiveInt(365)
    .describe('sessions with no activity for this many days are deleted (with their messages)'),
  SESSION_RETENTION_CHECK_SECONDS: env
    .positiveInt(3600)
    .describe('how often one replica looks for idle sessions'),
  // Session state cache (Redis; PostgreSQL is the source of truth).
  SESSION_STATE_RECENT_MESSAGES: z.coerce.number().int().min(1).max(200).default(20),
  SESSION_STATE_TTL_SECONDS: env.positiveInt(600).describe('a cached session state unread this long expires'),
});

export type ContextServiceConfig = z.infer<typeof contextServiceConfigSchema>;

export function loadContextServiceConfig(environment: NodeJS.ProcessEnv = process.env): ContextServiceConfig {
  return loadConfig(contextServiceConfigSchema, environment);
}
