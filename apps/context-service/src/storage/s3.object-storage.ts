import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError } from '@te/platform';
import { Readable, pipeline } from 'node:stream';
import { ByteLimit, assertBodyLength, assertDeclaredLength, readBounded } from './byte-limit.js';
import { assertValidExpiry, assertValidKey, assertValidPrefix } from './object-key.js';
import {
  DEFAULT_MAX_OBJECT_BYTES,
  type ObjectInfo,
  type ObjectStorage,
  type PutObjectOptions,
  type SignedUrlOptions,
  type StoredObject,
} from './object-storage.js';

export interface S3ObjectStorageOptions {
  bucket: string;
  region: string;
  /** For MinIO, R2, GCS (https://storage.googleapis.com) or a local server; AWS when unset. */
  endpoint?: string;
  /** Path-style URLs (http://host/bucket/key): MinIO and most local servers need them. */
  forcePathStyle?: boolean;
  /** Static credentials; when unset the SDK's default chain (env, IRSA/web identity, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxObjectBytes?: number;
  /** Signing time of presigned URLs; tests move it. */
  clock?: () => Date;
}

/**
 * Objects in one bucket of an S3-compatible service. Uploads use a single PutObject: streamed when the
 * caller gives `contentLength`, otherwise read into memory up to `maxObjectBytes` first (S3 needs the
 * length up front and @aws-sdk/lib-storage's multipart upload is not a dependency). Screenshots stay
 * far below PutObject's 5 GiB limit.
 */
export class S3ObjectStorage implements ObjectStorage {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly maxObjectBytes: number;
  private readonly clock: () => Date;

  constructor(options: S3ObjectStorageOptions) {
    this.bucket = options.bucket;
    this.maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.clock = options.clock ?? (() => new Date());
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: options.credentials,
      // Checksums only where the API demands them: MinIO, R2, GCS and older servers reject or
      // mis-store the aws-chunked uploads that the SDK's default ('WHEN_SUPPORTED') sends.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A dead endpoint fails the call instead of hanging it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
      // The SDK otherwise prints to the console when a streamed upload fails; put() reports that itself.
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
  }

  async put(key: string, body: Readable | Buffer, options: PutObjectOptions): Promise<StoredObject> {
    assertValidKey(key);
    const declared = { maxBytes: this.maxObjectBytes, expectedLength: options.contentLength };
    assertDeclaredLength(declared);
    if (Buffer.isBuffer(body) || options.contentLength === undefined) {
      const data = Buffer.isBuffer(body) ? body : await readBounded(body, this.maxObjectBytes);
      assertBodyLength(data.length, declared);
      return this.send(key, data, data.length, options.contentType);
    }
    // Streamed: S3 would wait for missing bytes, so a body that ends early or runs long aborts the request.
    const abort = new AbortController();
    const limit = new ByteLimit(declared);
    pipeline(body, limit, (error) => {
      if (error) abort.abort(error);
    });
    try {
      return await this.send(key, limit, options.contentLength, options.contentType, abort.signal);
    } catch (error) {
      limit.destroy();
      // When the body failed, that failure (a length check, the client hanging up) is the real cause.
      throw abort.signal.aborted ? abort.signal.reason : error;
    }
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    const result = await this.call(
      () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
      key,
    );
    if (!(result.Body instanceof Readable))
      throw new AppError('INTERNAL', 'Object storage returned no stream');
    return result.Body;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    try {
      const result = await this.call(
        () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
        key,
      );
      return {
        key,
        size: result.ContentLength ?? 0,
        lastModified: result.LastModified ?? new Date(0),
        ...(result.ContentType ? { contentType: result.ContentType } : {}),
        ...(result.ETag ? { etag: result.ETag } : {}),
      };
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    // Keys use only URL-safe characters (object-key.ts), so the copy source needs no encoding.
    const copy = new CopyObjectCommand({
      Bucket: this.bucket,
      Key: toKey,
      CopySource: `${this.bucket}/${fromKey}`,
    });
    await this.call(() => this.client.send(copy), fromKey);
    await this.delete(fromKey);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    // S3 answers 204 for a missing key too.
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })), key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    let deleted = 0;
    let continuationToken: string | undefined;
    do {
      const list = new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        ContinuationToken: continuationToken,
      });
      const page = await this.call(() => this.client.send(list), prefix);
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
      if (keys.length > 0) {
        // One page is at most 1,000 keys, DeleteObjects' own limit.
        const remove = new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys, Quiet: true },
        });
        const result = await this.call(() => this.client.send(remove), prefix);
        if (result.Errors?.length) {
          throw new AppError(
            'UNAVAILABLE',
            `Object storage failed to delete ${result.Errors.length} objects`,
            {
              details: { firstError: result.Errors[0]?.Code },
            },
          );
        }
        deleted += keys.length;
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    return deleted;
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<string> {
    assertValidKey(key);
    assertValidExpiry(options.expiresInSeconds);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: options.expiresInSeconds,
      signingDate: this.clock(),
    });
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private async send(
    key: string,
    body: Buffer | Readable,
    contentLength: number,
    contentType: string,
    abortSignal?: AbortSignal,
  ): Promise<StoredObject> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentLength: contentLength,
      ContentType: contentType,
    });
    const result = await this.call(() => this.client.send(command, { abortSignal }), key);
    return { key, size: contentLength, ...(result.ETag ? { etag: result.ETag } : {}) };
  }

  /** S3's "no such key" becomes NOT_FOUND; an unreachable endpoint becomes UNAVAILABLE. */
  private async call<T>(operation: () => Promise<T>, key: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw translate(error, key);
    }
  }
}

function translate(error: unknown, key: string): unknown {
  if (error instanceof AppError) return error;
  const failure = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = failure.$metadata?.httpStatusCode;
  // A missing bucket is a configuration error, not a missing object.
  if (failure.name === 'NoSuchBucket') return error;
  if (failure.name === 'NoSuchKey' || failure.name === 'NotFound' || status === 404) {
    return new AppError('NOT_FOUND', 'No such object', { details: { key } });
  }
  if (status === undefined || status >= 500) {
    return new AppError('UNAVAILABLE', 'Object storage is unavailable', { cause: error });
  }
  return error;
}
