import { randomBytes } from 'node:crypto';
import { FilesystemObjectStorage } from './filesystem.object-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { S3ObjectStorage } from './s3.object-storage.js';

/** Plain settings, independent of how they were read (see object-storage.config.ts for the env names). */
export interface ObjectStorageSettings {
  driver: 'filesystem' | 's3';
  /** filesystem: directory of the objects. */
  root: string;
  /** filesystem: mount point of the signed-link route (default '/objects'). */
  urlBase?: string;
  /** filesystem: HMAC key of signed links. Unset: a random one per process (links die with it). */
  signingSecret?: string;
  bucket?: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  maxObjectBytes?: number;
}

export function createObjectStorage(settings: ObjectStorageSettings): ObjectStorage {
  if (settings.driver === 's3') {
    if (!settings.bucket) throw new Error('Object storage: the s3 driver needs a bucket');
    return new S3ObjectStorage({
      bucket: settings.bucket,
      region: settings.region ?? 'us-east-1',
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials:
        settings.accessKeyId && settings.secretAccessKey
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined,
      maxObjectBytes: settings.maxObjectBytes,
    });
  }
  return new FilesystemObjectStorage({
    root: settings.root,
    urlBase: settings.urlBase,
    // Production requires a configured secret (refineObjectStorageConfig); elsewhere a random one
    // keeps links working for the life of the process.
    signingSecret: settings.signingSecret ?? randomBytes(32).toString('base64url'),
    maxObjectBytes: settings.maxObjectBytes,
  });
}
