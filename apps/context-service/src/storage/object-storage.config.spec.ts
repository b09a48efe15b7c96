import { ConfigError, loadConfig } from '@te/platform';
import { z } from 'zod';
import { createObjectStorage } from './create-object-storage.js';
import { FilesystemObjectStorage } from './filesystem.object-storage.js';
import {
  objectStorageConfigSchema,
  objectStorageSettings,
  refineObjectStorageConfig,
} from './object-storage.config.js';
import { S3ObjectStorage } from './s3.object-storage.js';

// The way the lead merges it into config.ts.
const schema = z
  .object({ NODE_ENV: z.enum(['development', 'test', 'production']).default('development') })
  .extend(objectStorageConfigSchema.shape)
  .superRefine(refineObjectStorageConfig);

const problems = (environment: NodeJS.ProcessEnv) => {
  try {
    loadConfig(schema, environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('object storage config', () => {
  it('When nothing is set, then the filesystem driver under ./var/objects is used', () => {
    const config = loadConfig(schema, {});
    expect(objectStorageSettings(config)).toMatchObject({
      driver: 'filesystem',
      root: './var/objects',
      urlBase: '/objects',
      region: 'us-east-1',
      forcePathStyle: false,
      maxObjectBytes: 25 * 1024 * 1024,
    });
    expect(createObjectStorage(objectStorageSettings(config))).toBeInstanceOf(FilesystemObjectStorage);
  });

  it('When the s3 driver is fully configured, then every variable reaches the settings and an S3 storage is built', () => {
    const config = loadConfig(schema, {
      STORAGE_DRIVER: 's3',
      STORAGE_S3_BUCKET: 'te-uploads',
      STORAGE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      STORAGE_S3_REGION: 'eu-west-1',
      STORAGE_S3_ACCESS_KEY_ID: 'AKIA',
      STORAGE_S3_SECRET_ACCESS_KEY: 'secret',
      STORAGE_S3_FORCE_PATH_STYLE: 'true',
      STORAGE_MAX_OBJECT_BYTES: '1000',
    });
    expect(objectStorageSettings(config)).toMatchObject({
      driver: 's3',
      bucket: 'te-uploads',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      maxObjectBytes: 1000,
    });
    const storage = createObjectStorage(objectStorageSettings(config));
    expect(storage).toBeInstanceOf(S3ObjectStorage);
    (storage as S3ObjectStorage).close();
  });

  it('When the s3 driver lacks a bucket or half its credentials, then start-up lists each problem', () => {
    expect(problems({ STORAGE_DRIVER: 's3', STORAGE_S3_ACCESS_KEY_ID: 'AKIA' })).toEqual([
      { variable: 'STORAGE_S3_BUCKET', message: 'is required when STORAGE_DRIVER=s3' },
      {
        variable: 'STORAGE_S3_SECRET_ACCESS_KEY',
        message: 'STORAGE_S3_ACCESS_KEY_ID and STORAGE_S3_SECRET_ACCESS_KEY go together',
      },
    ]);
  });

  it('When production uses the filesystem driver, then a signing secret of 32+ characters is required', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      {
        variable: 'STORAGE_URL_SIGNING_SECRET',
        message: 'is required in production with the filesystem driver',
      },
    ]);
    expect(problems({ NODE_ENV: 'production', STORAGE_URL_SIGNING_SECRET: 'too-short' })).toEqual([
      { variable: 'STORAGE_URL_SIGNING_SECRET', message: 'must have at least 32 characters' },
    ]);
    expect(problems({ NODE_ENV: 'production', STORAGE_URL_SIGNING_SECRET: 'x'.repeat(32) })).toEqual([]);
  });

  it('When a driver name or URL base is unknown, then it is refused', () => {
    expect(problems({ STORAGE_DRIVER: 'ftp' }).map((problem) => problem.variable)).toEqual([
      'STORAGE_DRIVER',
    ]);
    expect(problems({ STORAGE_FS_URL_BASE: 'objects' }).map((problem) => problem.variable)).toEqual([
      'STORAGE_FS_URL_BASE',
    ]);
  });
});
