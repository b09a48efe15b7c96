import { AppError } from '@te/platform';
import { createHash, randomUUID } from 'node:crypto';
import { Transform, pipeline, type Readable } from 'node:stream';
import type { ObjectStorage, StoredObject } from './object-storage.js';

const USER_ID = /^[A-Za-z0-9_-]{1,128}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const EXTENSION = /^[a-z0-9]{1,10}$/;

/** Everything stored for one user lives under this prefix; `deletePrefix(userPrefix(id))` erases it. */
export function userPrefix(userId: string): string {
  if (!USER_ID.test(userId)) throw invalid('userId', 'must be 1-128 characters of [A-Za-z0-9_-]');
  return `users/${userId}/`;
}

/** `users/<userId>/sha256/<hex>.<ext>`: the same bytes from the same user are stored once. */
export function contentKey(userId: string, sha256Hex: string, extension: string): string {
  if (!SHA256_HEX.test(sha256Hex)) throw invalid('sha256', 'must be 64 lowercase hex digits');
  if (!EXTENSION.test(extension)) throw invalid('extension', 'must be 1-10 characters of [a-z0-9]');
  return `${userPrefix(userId)}sha256/${sha256Hex}.${extension}`;
}

export interface ContentAddressedUpload {
  userId: string;
  body: Readable | Buffer;
  extension: string;
  contentType: string;
  contentLength?: number;
}

/**
 * Stores a user's file under its SHA-256 without holding a stream in memory:
 * - a Buffer is hashed first and written straight to its final key;
 * - a stream is hashed while it is written to `users/<id>/uploads/<uuid>`, then moved to its final
 *   key (a rename on the filesystem, copy + delete on S3). A failed upload leaves no temporary object,
 *   and an interrupted move leaves it under the user's prefix, so erasing the user still removes it.
 * Writing the same content again replaces it with identical bytes.
 */
export async function putContentAddressed(
  storage: ObjectStorage,
  upload: ContentAddressedUpload,
): Promise<StoredObject & { sha256: string }> {
  const options = { contentType: upload.contentType, contentLength: upload.contentLength };
  if (Buffer.isBuffer(upload.body)) {
    const sha256 = createHash('sha256').update(upload.body).digest('hex');
    const stored = await storage.put(
      contentKey(upload.userId, sha256, upload.extension),
      upload.body,
      options,
    );
    return { ...stored, sha256 };
  }
  contentKey(upload.userId, '0'.repeat(64), upload.extension); // validate before any byte moves
  const temporaryKey = `${userPrefix(upload.userId)}uploads/${randomUUID()}`;
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  pipeline(upload.body, hashing, () => undefined); // errors reach put() through `hashing`
  try {
    const stored = await storage.put(temporaryKey, hashing, options);
    const sha256 = hash.digest('hex');
    const key = contentKey(upload.userId, sha256, upload.extension);
    await storage.move(temporaryKey, key);
    return { key, size: stored.size, sha256, ...(stored.etag ? { etag: stored.etag } : {}) };
  } catch (error) {
    hashing.destroy();
    await storage.delete(temporaryKey).catch(() => undefined);
    throw error;
  }
}

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid ${field}: ${message}`, { fields: [{ field, message }] });
}
