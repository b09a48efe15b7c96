import { env, loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import { z } from 'zod';
import { routingConfigSchema } from './routing/routing.config.js';
import { objectStorageConfigSchema, refineObjectStorageConfig } from './storage/object-storage.config.js';

/** 10 MiB: the largest screenshot accepted by default. */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;

/** Every variable context-service reads (the common service ones plus its own). Start-up lists each bad one. */
export const contextServiceConfigSchema = serviceConfigSchema({
  name: 'context-service',
  grpcPort: 50052,
  httpPort: 8082,
  database: 'te_context',
})
  .extend({
    // Lifecycle.
    SESSION_RETENTION_DAYS: env
      .positiveInt(365)
      .describe('sessions with no activity for this many days are deleted (with their messages)'),
    SESSION_RETENTION_CHECK_SECONDS: env
      .positiveInt(3600)
      .describe('how often one replica looks for idle sessions'),
    // Session state cache (Redis; PostgreSQL is the source of truth).
    SESSION_STATE_RECENT_MESSAGES: z.coerce.number().int().min(1).max(200).default(20),
    SESSION_STATE_TTL_SECONDS: env
      .positiveInt(600)
      .describe('a cached session state unread this long expires'),
    // Attachments (screenshots) and their OCR.
    ATTACHMENT_MAX_BYTES: env
      .positiveInt(DEFAULT_ATTACHMENT_MAX_BYTES)
      .describe('largest uploaded screenshot, in bytes (the gateway enforces its own limit too)'),
    ATTACHMENT_MAX_DIMENSION: env
      .positiveInt(4096)
      .describe('stored screenshots fit inside this many pixels on each side'),
    ATTACHMENT_MAX_PIXELS: env
      .positiveInt(50_000_000)
      .describe('screenshots declaring more pixels are refused before decoding'),
    OCR_WORKER_ENABLED: env
      .boolean(true)
      .describe('run the OCR consumer inside this process (false when it has its own deployment)'),
    OCR_POOL_SIZE: z.coerce.number().int().min(1).max(16).default(1).describe('tesseract workers'),
    OCR_JOB_TIMEOUT_MS: env.positiveInt(60_000).describe('one OCR run is abandoned after this long'),
  })
  .extend(objectStorageConfigSchema.shape)
  .extend(routingConfigSchema.shape)
  .superRefine(refineObjectStorageConfig);

export type ContextServiceConfig = z.infer<typeof contextServiceConfigSchema>;

export function loadContextServiceConfig(environment: NodeJS.ProcessEnv = process.env): ContextServiceConfig {
  return loadConfig(contextServiceConfigSchema, environment);
}
