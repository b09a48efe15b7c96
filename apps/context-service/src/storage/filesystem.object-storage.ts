import { AppError } from '@te/platform';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteLimit } from './byte-limit.js';
import { assertValidExpiry, assertValidKey, assertValidPrefix } from './object-key.js';
import {
  DEFAULT_MAX_OBJECT_BYTES,
  type ObjectInfo,
  type ObjectStorage,
  type PutObjectOptions,
  type SignedUrlOptions,
  type StoredObject,
} from './object-storage.js';
import { signObjectUrl, verifySignedUrl, type SignedUrlVerification } from './signed-url.js';

export interface FilesystemObjectStorageOptions {
  /** Directory that holds the objects; created when missing. */
  root: string;
  /** HMAC key of the signed download links (at least 32 characters). */
  signingSecret: string;
  /** Where the route that serves signed links is mounted, absolute or a path (default '/objects'). */
  urlBase?: string;
  maxObjectBytes?: number;
  /** Current time for signed links; tests move it. */
  clock?: () => Date;
}

const TEMP_DIR = '.tmp';
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Objects as files under `root`, one file per key ('a/b.png' → '<root>/a/b.png'). Writes stream into
 * '<root>/.tmp/<uuid>' (fsynced) and are renamed into place, so a reader sees the old object or the
 * whole new one, never half a file. Keys cannot start a segment with '.', so '.tmp' is never an object.
 */
export class FilesystemObjectStorage implements ObjectStorage {
  private readonly root: string;
  private readonly tempDir: string;
  private readonly urlBase: string;
  private readonly maxObjectBytes: number;
  private readonly clock: () => Date;

  constructor(private readonly options: FilesystemObjectStorageOptions) {
    if (options.signingSecret.length < 32) throw new Error('signingSecret must have at least 32 characters');
    this.root = path.resolve(options.root);
    this.tempDir = path.join(this.root, TEMP_DIR);
    this.urlBase = options.urlBase ?? '/objects';
    this.maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.clock = options.clock ?? (() => new Date());
  }

  async put(key: string, body: Readable | Buffer, options: PutObjectOptions): Promise<StoredObject> {
    const target = this.pathOf(key);
    const limit = new ByteLimit({ maxBytes: this.maxObjectBytes, expectedLength: options.contentLength });
    await mkdir(this.tempDir, { recursive: true });
    const temporary = path.join(this.tempDir, randomUUID());
    try {
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      await pipeline(source, limit, createWriteStream(temporary, { flags: 'wx', flush: true }));
      await this.publish(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { key, size: limit.bytes };
  }

  async get(key: string): Promise<Readable> {
    return (await this.open(key)).body;
  }

  /** The object's stream with the size of that very file (for Content-Length even while it is replaced). */
  async open(key: string): Promise<{ body: Readable; size: number }> {
    const file = this.pathOf(key);
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isMissing(error) || hasCode(error, 'EISDIR')) throw notFound(key);
      throw error;
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw notFound(key);
    }
    return { body: handle.createReadStream(), size: info.size };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, size: info.size, lastModified: info.mtime } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    if (!(await this.head(fromKey))) throw notFound(fromKey);
    await this.publish(from, to);
    await this.pruneEmptyParents(from);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await unlink(file);
    } catch (error) {
      // A directory under the key means "no object there" (S3 has no directories).
      if (isMissing(error) || hasCode(error, 'EISDIR') || hasCode(error, 'EPERM')) return;
      throw error;
    }
    await this.pruneEmptyParents(file);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    const directory = this.pathOf(prefix.slice(0, -1));
    // Detach the whole tree with one rename first: readers see all of it gone at once, and objects
    // written under the prefix afterwards are new ones, as with S3.
    await mkdir(this.tempDir, { recursive: true });
    const detached = path.join(this.tempDir, randomUUID());
    try {
      if (!(await stat(directory)).isDirectory()) return 0;
      await rename(directory, detached);
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    const entries = await readdir(detached, { recursive: true, withFileTypes: true });
    await rm(detached, { recursive: true, force: true });
    await this.pruneEmptyParents(directory);
    return entries.filter((entry) => entry.isFile()).length;
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<string> {
    assertValidKey(key);
    assertValidExpiry(options.expiresInSeconds);
    const expiresAt = new Date(this.clock().getTime() + options.expiresInSeconds * 1000);
    return signObjectUrl({ key, expiresAt, secret: this.options.signingSecret, urlBase: this.urlBase });
  }

  /** For the route that serves signed links: the request path (or URL) → the key it may download. */
  verifySignedUrl(url: string | URL): SignedUrlVerification {
    const basePath = new URL(this.urlBase, 'http://signed.invalid').pathname;
    return verifySignedUrl(url, { secret: this.options.signingSecret, basePath, now: this.clock() });
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    const resolved = path.join(this.root, ...key.split('/'));
    // Defence in depth: validated keys cannot leave the root, and this would say so if they did.
    if (!resolved.startsWith(this.root + path.sep))
      throw new AppError('VALIDATION_FAILED', 'Invalid object key');
    return resolved;
  }

  /** Renames into place; a concurrent prune may remove the fresh parent directory, so retry. */
  private async publish(from: string, to: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(path.dirname(to), { recursive: true });
        await rename(from, to);
        return;
      } catch (error) {
        if (hasCode(error, 'ENOENT') && attempt < 3) continue;
        if (['EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY'].some((code) => hasCode(error, code))) {
          throw new AppError('CONFLICT', 'The object key clashes with an existing key path', {
            cause: error,
          });
        }
        throw error;
      }
    }
  }

  /** Removes directories left empty, up to (not including) the root; a non-empty one stops it. */
  private async pruneEmptyParents(file: string): Promise<void> {
    for (let dir = path.dirname(file); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }
}

function notFound(key: string): AppError {
  return new AppError('NOT_FOUND', 'No such object', { details: { key } });
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function isMissing(error: unknown): boolean {
  return [...MISSING].some((code) => hasCode(error, code));
}
