import { AppError } from '@te/platform';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { contentKey, putContentAddressed, userPrefix } from '../src/storage/content-addressed.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilesystemObjectStorage } from '../src/storage/filesystem.object-storage.js';
import type { ObjectStorage } from '../src/storage/object-storage.js';
import { S3ObjectStorage } from '../src/storage/s3.object-storage.js';
import { serveSignedObject } from '../src/storage/signed-object-route.js';
import { startS3Server } from './support/s3-server.js';

const TEST_MAX_OBJECT_BYTES = 8 * 1024 * 1024;
const HOUR_AGO = () => new Date(Date.now() - 60 * 60 * 1000);

/** One driver as the contract suite sees it: a storage, a twin whose clock is an hour behind, and teardown. */
interface StorageHarness {
  storage: ObjectStorage;
  /** Same objects and secrets, but signs links as if it were an hour ago. */
  pastStorage: ObjectStorage;
  /**
   * s3rver keeps the bytes of an upload whose client hung up early (it ignores Content-Length);
   * S3, MinIO and R2 discard an incomplete PutObject. The put itself fails on every driver.
   */
  keepsTruncatedUploads?: boolean;
  stop(): Promise<void>;
}

/** Filesystem driver in a fresh temporary root, its signed links served by `serveSignedObject` on loopback. */
async function filesystemHarness(): Promise<StorageHarness> {
  const root = await mkdtemp(path.join(tmpdir(), 'te-objects-'));
  const signingSecret = 'test-signing-secret-of-at-least-32-chars';
  // The route needs the storage and the storage needs the route's port.
  const served: { storage?: FilesystemObjectStorage } = {};
  const server = createServer(
    (request, response) => void serveSignedObject(served.storage!, request, response),
  );
  const port = await listen(server);
  const urlBase = `http://127.0.0.1:${port}/objects`;
  const options = { root, signingSecret, urlBase, maxObjectBytes: TEST_MAX_OBJECT_BYTES };
  const storage = (served.storage = new FilesystemObjectStorage(options));
  return {
    storage,
    pastStorage: new FilesystemObjectStorage({ ...options, clock: HOUR_AGO }),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** S3 driver against a real s3rver on loopback (path-style, as TOOLCHAIN.md notes). */
async function s3Harness(): Promise<StorageHarness> {
  const server = await startS3Server();
  const options = {
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxObjectBytes: TEST_MAX_OBJECT_BYTES,
  };
  const storage = new S3ObjectStorage(options);
  const pastStorage = new S3ObjectStorage({ ...options, clock: HOUR_AGO });
  return {
    storage,
    pastStorage,
    keepsTruncatedUploads: true,
    async stop() {
      storage.close();
      pastStorage.close();
      await server.stop();
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const MiB = 1024 * 1024;

function chunked(data: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize)
    chunks.push(data.subarray(offset, offset + chunkSize));
  return Readable.from(chunks);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof AppError ? error.code : `not an AppError: ${String(error)}`;
  }
  return 'no error';
}

describe.each([
  ['filesystem', filesystemHarness],
  ['s3', s3Harness],
])('Object storage contract: %s driver', (_driver, createHarness) => {
  let harness: StorageHarness;
  let storage: ObjectStorage;
  const png = { contentType: 'image/png' };

  beforeAll(async () => {
    harness = await createHarness();
    storage = harness.storage;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When a multi-MB stream is put with its length, then get returns the same bytes and head its size', async () => {
    const data = randomBytes(5 * MiB + 123);
    const stored = await storage.put('users/u-round/big.bin', chunked(data), {
      contentType: 'application/octet-stream',
      contentLength: data.length,
    });
    expect(stored).toMatchObject({ key: 'users/u-round/big.bin', size: data.length });
    expect(sha256(await readAll(await storage.get('users/u-round/big.bin')))).toBe(sha256(data));
    const info = await storage.head('users/u-round/big.bin');
    expect(info?.size).toBe(data.length);
    expect(info?.lastModified.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('When a stream of unknown length or a Buffer is put, then it is stored whole', async () => {
    const data = randomBytes(300 * 1024);
    await storage.put('users/u-unknown/a.bin', chunked(data), png);
    await storage.put('users/u-unknown/b.bin', data, png);
    expect((await readAll(await storage.get('users/u-unknown/a.bin'))).equals(data)).toBe(true);
    expect((await storage.head('users/u-unknown/b.bin'))?.size).toBe(data.length);
  });

  it('When an object is put again under the same key, then readers get the new bytes', async () => {
    await storage.put('users/u-over/x.txt', Buffer.from('old'), png);
    await storage.put('users/u-over/x.txt', Buffer.from('newer'), png);
    expect((await readAll(await storage.get('users/u-over/x.txt'))).toString()).toBe('newer');
  });

  it('When a body is larger than the limit, then it is PAYLOAD_TOO_LARGE and nothing is stored', async () => {
    const data = Buffer.alloc(TEST_MAX_OBJECT_BYTES + 1);
    expect(await codeOf(storage.put('users/u-big/a.bin', chunked(data), png))).toBe('PAYLOAD_TOO_LARGE');
    expect(await codeOf(storage.put('users/u-big/b.bin', data, png))).toBe('PAYLOAD_TOO_LARGE');
    expect(
      await codeOf(storage.put('users/u-big/c.bin', chunked(data), { ...png, contentLength: data.length })),
    ).toBe('PAYLOAD_TOO_LARGE');
    expect(await storage.head('users/u-big/a.bin')).toBeUndefined();
    expect(await storage.head('users/u-big/b.bin')).toBeUndefined();
    expect(await storage.head('users/u-big/c.bin')).toBeUndefined();
  });

  it('When a stream is longer or shorter than its declared length, then the put fails with VALIDATION_FAILED and stores nothing', async () => {
    const data = randomBytes(256 * 1024);
    const longer = storage.put('users/u-len/long.bin', chunked(data), { ...png, contentLength: 1000 });
    const shorter = storage.put('users/u-len/short.bin', chunked(data), {
      ...png,
      contentLength: data.length + 1,
    });
    expect(await codeOf(longer)).toBe('VALIDATION_FAILED');
    expect(await codeOf(shorter)).toBe('VALIDATION_FAILED');
    expect(await storage.head('users/u-len/long.bin')).toBeUndefined();
    if (!harness.keepsTruncatedUploads) expect(await storage.head('users/u-len/short.bin')).toBeUndefined();
  });

  it('When a key has no object, then get is NOT_FOUND and head is undefined', async () => {
    expect(await codeOf(storage.get('users/u-none/missing.png'))).toBe('NOT_FOUND');
    expect(await storage.head('users/u-none/missing.png')).toBeUndefined();
  });

  it('When an object is deleted twice, then both succeed and it is gone', async () => {
    await storage.put('users/u-del/a.png', Buffer.from('a'), png);
    await storage.delete('users/u-del/a.png');
    await storage.delete('users/u-del/a.png');
    expect(await storage.head('users/u-del/a.png')).toBeUndefined();
    expect(await codeOf(storage.get('users/u-del/a.png'))).toBe('NOT_FOUND');
  });

  it('When an object is moved, then it is under the new key only; moving a missing one is NOT_FOUND', async () => {
    await storage.put('users/u-move/from.png', Buffer.from('moved'), png);
    await storage.move('users/u-move/from.png', 'users/u-move/sub/to.png');
    expect(await storage.head('users/u-move/from.png')).toBeUndefined();
    expect((await readAll(await storage.get('users/u-move/sub/to.png'))).toString()).toBe('moved');
    expect(await codeOf(storage.move('users/u-move/from.png', 'users/u-move/again.png'))).toBe('NOT_FOUND');
  });

  it("When a user's prefix is deleted, then only that user's objects go, however many", async () => {
    const keys = Array.from(
      { length: 1005 },
      (_, index) => `users/u1/sha256/${String(index).padStart(4, '0')}.png`,
    );
    for (let start = 0; start < keys.length; start += 25) {
      await Promise.all(keys.slice(start, start + 25).map((key) => storage.put(key, Buffer.from(key), png)));
    }
    await storage.put('users/u1/uploads/tmp', Buffer.from('t'), png);
    await storage.put('users/u10/sha256/keep.png', Buffer.from('k'), png);
    await storage.put('users/u2/keep.png', Buffer.from('k'), png);
    await storage.put('users/u1.png', Buffer.from('k'), png);

    expect(await storage.deletePrefix(userPrefix('u1'))).toBe(1006);

    expect(await storage.head(keys[0])).toBeUndefined();
    expect(await storage.head(keys[1004])).toBeUndefined();
    expect(await storage.head('users/u1/uploads/tmp')).toBeUndefined();
    expect((await storage.head('users/u10/sha256/keep.png'))?.size).toBe(1);
    expect((await storage.head('users/u2/keep.png'))?.size).toBe(1);
    expect((await storage.head('users/u1.png'))?.size).toBe(1);
    expect(await storage.deletePrefix('users/u1/')).toBe(0);
  }, 60_000);

  it("When a prefix does not end with '/', then deletePrefix refuses it (so 'users/1' cannot match 'users/10')", async () => {
    await storage.put('users/u3/keep.png', Buffer.from('k'), png);
    expect(await codeOf(storage.deletePrefix('users/u'))).toBe('VALIDATION_FAILED');
    expect(await codeOf(storage.deletePrefix('users/../'))).toBe('VALIDATION_FAILED');
    expect((await storage.head('users/u3/keep.png'))?.size).toBe(1);
  });

  it('When a signed URL is fetched before it expires, then it downloads the object', async () => {
    const data = randomBytes(64 * 1024);
    await storage.put('users/u-url/shot.png', data, png);
    const response = await fetch(await storage.signedUrl('users/u-url/shot.png', { expiresInSeconds: 60 }));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(data)).toBe(true);
  });

  it('When a signed URL has expired, then fetching it is refused with 403', async () => {
    await storage.put('users/u-url/old.png', Buffer.from('secret'), png);
    // Signed an hour ago for 60 seconds.
    const url = await harness.pastStorage.signedUrl('users/u-url/old.png', { expiresInSeconds: 60 });
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('secret');
  });

  it('When a signed URL is asked for with an expiry outside 1 s to 7 days, then it is VALIDATION_FAILED', async () => {
    expect(await codeOf(storage.signedUrl('users/u-url/a.png', { expiresInSeconds: 0 }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await codeOf(storage.signedUrl('users/u-url/a.png', { expiresInSeconds: 8 * 24 * 3600 }))).toBe(
      'VALIDATION_FAILED',
    );
  });

  it.each([
    '../etc/passwd',
    '/etc/passwd',
    'users/../../etc/passwd',
    'users/a\\..\\b',
    'users/a\0b',
    '',
    'users//a',
    '.tmp/x',
    'users/./a',
    'users/a?b',
    'users/é',
  ])('When the key is %j, then every operation refuses it with VALIDATION_FAILED', async (key) => {
    expect(await codeOf(storage.put(key, Buffer.from('x'), png))).toBe('VALIDATION_FAILED');
    expect(await codeOf(storage.get(key))).toBe('VALIDATION_FAILED');
    expect(await codeOf(storage.head(key))).toBe('VALIDATION_FAILED');
    expect(await codeOf(storage.delete(key))).toBe('VALIDATION_FAILED');
    expect(await codeOf(storage.move('users/u/a.png', key))).toBe('VALIDATION_FAILED');
    expect(await codeOf(storage.signedUrl(key, { expiresInSeconds: 60 }))).toBe('VALIDATION_FAILED');
  });

  it('When a stream is stored content-addressed, then its key is its SHA-256 and no temporary object remains', async () => {
    const data = randomBytes(2 * MiB);
    const stored = await putContentAddressed(storage, {
      userId: 'u-cas',
      body: chunked(data),
      extension: 'png',
      contentType: 'image/png',
      contentLength: data.length,
    });
    expect(stored).toMatchObject({
      key: contentKey('u-cas', sha256(data), 'png'),
      sha256: sha256(data),
      size: data.length,
    });
    expect(stored.key).toBe(`users/u-cas/sha256/${sha256(data)}.png`);
    expect((await readAll(await storage.get(stored.key))).equals(data)).toBe(true);
    expect(await storage.deletePrefix('users/u-cas/uploads/')).toBe(0);
  });

  it('When a Buffer is stored content-addressed twice, then both land on the same key', async () => {
    const data = Buffer.from('same screenshot bytes');
    const first = await putContentAddressed(storage, {
      userId: 'u-cas2',
      body: data,
      extension: 'png',
      contentType: 'image/png',
    });
    const second = await putContentAddressed(storage, {
      userId: 'u-cas2',
      body: data,
      extension: 'png',
      contentType: 'image/png',
    });
    expect(second.key).toBe(first.key);
    expect(first.key).toBe(`users/u-cas2/sha256/${sha256(data)}.png`);
    expect(await storage.deletePrefix('users/u-cas2/')).toBe(1);
  });

  it('When a content-addressed stream fails midway, then the error surfaces and nothing is left behind', async () => {
    async function* failing() {
      yield randomBytes(128 * 1024);
      throw new Error('client went away');
    }
    await expect(
      putContentAddressed(storage, {
        userId: 'u-cas3',
        body: Readable.from(failing()),
        extension: 'png',
        contentType: 'image/png',
      }),
    ).rejects.toThrow();
    expect(await storage.deletePrefix('users/u-cas3/')).toBe(0);
  });
});
