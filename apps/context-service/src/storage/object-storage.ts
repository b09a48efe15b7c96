import type { Readable } from 'node:stream';

/**
 * Where uploaded files (screenshots, attachments) live. One interface, two drivers: the local
 * filesystem (default, development and single-node) and any S3-compatible service (S3, MinIO, R2, GCS).
 * Keys are validated by both drivers alike (./object-key.ts); a missing object is a NOT_FOUND AppError.
 * Decision record: docs/decisions/0010-object-storage.md.
 */
export interface ObjectStorage {
  /**
   * Stores `body` under `key`, replacing any object there. Readers never see a partial object.
   * A stream is never buffered whole when `contentLength` is given; a body longer than the storage's
   * `maxObjectBytes` is PAYLOAD_TOO_LARGE, one that differs from `contentLength` is VALIDATION_FAILED.
   */
  put(key: string, body: Readable | Buffer, options: PutObjectOptions): Promise<StoredObject>;
  /** The object's bytes as a stream; NOT_FOUND when there is none. */
  get(key: string): Promise<Readable>;
  /** Size and metadata, or undefined when there is no object under `key`. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Renames an object (used to publish an upload under its content hash); NOT_FOUND when `from` is missing. */
  move(fromKey: string, toKey: string): Promise<void>;
  /** Removes the object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes every object whose key starts with `prefix` (which must end with '/', so that
   * 'users/1/' can never match 'users/10/…') and returns how many were removed.
   */
  deletePrefix(prefix: string): Promise<number>;
  /** A short-lived URL that lets anyone holding it download the object (GET only). */
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
}

export interface PutObjectOptions {
  /** MIME type stored with the object where the driver can (S3); the caller keeps it too. */
  contentType: string;
  /** Exact length of the body in bytes, when known. Lets S3 stream instead of buffering. */
  contentLength?: number;
}

export interface StoredObject {
  key: string;
  size: number;
  etag?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  contentType?: string;
  etag?: string;
}

export interface SignedUrlOptions {
  /** How long the URL works, 1 second to 7 days (S3's own limit). */
  expiresInSeconds: number;
}

/** 25 MiB: screenshots are far smaller; both drivers refuse bigger bodies. */
export const DEFAULT_MAX_OBJECT_BYTES = 25 * 1024 * 1024;
export const MAX_SIGNED_URL_SECONDS = 7 * 24 * 60 * 60;
