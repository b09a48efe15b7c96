import { env } from '@te/platform';
import { z } from 'zod';
import { DEFAULT_MAX_OBJECT_BYTES } from './object-storage.js';
import type { ObjectStorageSettings } from './create-object-storage.js';

/**
 * Object-storage variables, to merge into the service schema:
 *   serviceConfigSchema(…).extend(objectStorageConfigSchema.shape).superRefine(refineObjectStorageConfig)
 * Kept free of refinements so that `.shape` can be merged (zod refuses to extend a refined object).
 */
export const objectStorageConfigSchema = z.object({
  STORAGE_DRIVER: z
    .enum(['filesystem', 's3'])
    .default('filesystem')
    .describe('where uploaded files are kept: a local directory or an S3-compatible bucket'),
  STORAGE_FS_ROOT: z.string().min(1).default('./var/objects').describe('directory of the filesystem driver'),
  STORAGE_FS_URL_BASE: z
    .string()
    .regex(/^(https?:\/\/[^\s?#]+|\/[^\s?#]*)$/, 'must be an http(s) URL or a path starting with /')
    .default('/objects')
    .describe('where the route serving signed filesystem links is mounted'),
  STORAGE_S3_BUCKET: z.string().min(3).max(63).optional().describe('required when STORAGE_DRIVER=s3'),
  STORAGE_S3_ENDPOINT: env
    .url()
    .optional()
    .describe('MinIO, R2, GCS or another S3-compatible endpoint; AWS when unset'),
  STORAGE_S3_REGION: z.string().min(1).default('us-east-1'),
  STORAGE_S3_ACCESS_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe("when unset, the AWS SDK's default credential chain"),
  STORAGE_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  STORAGE_S3_FORCE_PATH_STYLE: env
    .boolean(false)
    .describe('path-style URLs, needed by MinIO and most local servers'),
  STORAGE_URL_SIGNING_SECRET: z
    .string()
    .min(32, 'must have at least 32 characters')
    .optional()
    .describe(
      'HMAC key of signed filesystem download links; required in production with the filesystem driver',
    ),
  STORAGE_MAX_OBJECT_BYTES: env
    .positiveInt(DEFAULT_MAX_OBJECT_BYTES)
    .describe('largest file either driver accepts'),
});

export type ObjectStorageConfig = z.infer<typeof objectStorageConfigSchema>;

/** Cross-variable rules; pass to `.superRefine` of the merged schema. */
export function refineObjectStorageConfig(
  config: ObjectStorageConfig & { NODE_ENV?: string },
  context: z.RefinementCtx,
): void {
  const problem = (variable: string, message: string) =>
    context.addIssue({ code: 'custom', path: [variable], message });
  if (config.STORAGE_DRIVER === 's3' && !config.STORAGE_S3_BUCKET) {
    problem('STORAGE_S3_BUCKET', 'is required when STORAGE_DRIVER=s3');
  }
  if (Boolean(config.STORAGE_S3_ACCESS_KEY_ID) !== Boolean(config.STORAGE_S3_SECRET_ACCESS_KEY)) {
    problem(
      'STORAGE_S3_SECRET_ACCESS_KEY',
      'STORAGE_S3_ACCESS_KEY_ID and STORAGE_S3_SECRET_ACCESS_KEY go together',
    );
  }
  if (
    config.NODE_ENV === 'production' &&
    config.STORAGE_DRIVER === 'filesystem' &&
    !config.STORAGE_URL_SIGNING_SECRET
  ) {
    problem('STORAGE_URL_SIGNING_SECRET', 'is required in production with the filesystem driver');
  }
}

export function objectStorageSettings(config: ObjectStorageConfig): ObjectStorageSettings {
  return {
    driver: config.STORAGE_DRIVER,
    root: config.STORAGE_FS_ROOT,
    urlBase: config.STORAGE_FS_URL_BASE,
    bucket: config.STORAGE_S3_BUCKET,
    endpoint: config.STORAGE_S3_ENDPOINT,
    region: config.STORAGE_S3_REGION,
    accessKeyId: config.STORAGE_S3_ACCESS_KEY_ID,
    secretAccessKey: config.STORAGE_S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.STORAGE_S3_FORCE_PATH_STYLE,
    signingSecret: config.STORAGE_URL_SIGNING_SECRET,
    maxObjectBytes: config.STORAGE_MAX_OBJECT_BYTES,
  };
}
