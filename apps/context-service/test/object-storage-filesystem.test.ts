import { AppError } from '@te/platform';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { FilesystemObjectStorage } from '../src/storage/filesystem.object-storage.js';
import { serveSignedObject } from '../src/storage/signed-object-route.js';
import { verifySignedUrl } from '../src/storage/signed-url.js';

const SECRET = 'filesystem-test-secret-with-32-characters';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('FilesystemObjectStorage', () => {
  let parent: string;
  let root: string;
  let storage: FilesystemObjectStorage;
  let server: Server;
  let origin: string;
  const png = { contentType: 'image/png' };

  beforeAll(async () => {
    parent = await mkdtemp(path.join(tmpdir(), 'te-objects-fs-'));
    root = path.join(parent, 'root');
    server = createServer((request, response) => void serveSignedObject(storage, request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    storage = new FilesystemObjectStorage({ root, signingSecret: SECRET, urlBase: `${origin}/objects` });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(parent, { recursive: true, force: true });
  });

  it('When a put is still streaming, then readers see the previous object whole, and afterwards the new one', async () => {
    const old = randomBytes(200_000);
    await storage.put('users/a/shot.png', old, png);
    const body = new PassThrough();
    const writing = storage.put('users/a/shot.png', body, png);
    body.write(randomBytes(100_000));
    await until(
      async () => ((await readdir(path.join(root, '.tmp'))).length > 0 ? true : undefined),
      'a temp file',
    );

    expect((await readAll(await storage.get('users/a/shot.png'))).equals(old)).toBe(true);
    expect((await storage.head('users/a/shot.png'))?.size).toBe(old.length);

    const rest = randomBytes(50_000);
    body.end(rest);
    expect((await writing).size).toBe(150_000);
    expect((await storage.head('users/a/shot.png'))?.size).toBe(150_000);
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
  });

  it('When the source stream fails midway, then the old object is intact and no temporary file is left', async () => {
    await storage.put('users/b/shot.png', Buffer.from('previous'), png);
    async function* failing() {
      yield randomBytes(64 * 1024);
      throw new Error('client went away');
    }
    await expect(storage.put('users/b/shot.png', Readable.from(failing()), png)).rejects.toThrow(
      'client went away',
    );
    expect((await readAll(await storage.get('users/b/shot.png'))).toString()).toBe('previous');
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
  });

  it('When traversal keys are used, then nothing is written or read outside the root', async () => {
    await mkdir(root, { recursive: true });
    for (const key of [
      '../escape.txt',
      'users/../../escape.txt',
      '/tmp/escape.txt',
      'users\\..\\..\\escape.txt',
    ]) {
      await expect(storage.put(key, Buffer.from('x'), png)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await readdir(parent)).sort()).toEqual(['root']);
    await expect(storage.get('../../../../etc/passwd')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('When the last object under a directory is deleted, then the empty directories go too', async () => {
    await storage.put('users/c/deep/er/x.png', Buffer.from('x'), png);
    await storage.delete('users/c/deep/er/x.png');
    expect(await readdir(path.join(root, 'users'))).not.toContain('c');
  });

  it('When a signed link is served, then GET streams it with safe headers and HEAD gives its size', async () => {
    await storage.put('users/d/shot.png', Buffer.from('png-bytes'), png);
    const url = await storage.signedUrl('users/d/shot.png', { expiresInSeconds: 120 });
    expect(url).toMatch(
      new RegExp(`^${origin}/objects/users/d/shot\\.png\\?expires=\\d+&signature=[\\w-]{43}$`),
    );

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('png-bytes');
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(100);
    expect(maxAge).toBeLessThanOrEqual(120);

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('9');
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(405);
  });

  it('When a signed link is tampered with, then it is refused with 403 and the object is not sent', async () => {
    await storage.put('users/e/shot.png', Buffer.from('private'), png);
    await storage.put('users/f/shot.png', Buffer.from('other user'), png);
    const url = new URL(await storage.signedUrl('users/e/shot.png', { expiresInSeconds: 60 }));
    const signature = url.searchParams.get('signature')!;
    const lastChar = signature.at(-1) === 'A' ? 'B' : 'A';
    const tampered = [
      url.href.replace('/users/e/', '/users/f/'),
      url.href.replace(/expires=\d+/, `expires=${Number(url.searchParams.get('expires')) + 3600}`),
      url.href.replace(signature, signature.slice(0, -1) + lastChar),
      url.href.replace(/&signature=.*$/, ''),
      // Encoded so that fetch does not normalise it away: decoded, the key would climb out of the root.
      url.href.replace('/objects/users/e/shot.png', '/objects/users/e/..%2F..%2F..%2Fescape.txt'),
    ];
    for (const link of tampered) {
      const response = await fetch(link);
      expect({ link, status: response.status }).toEqual({ link, status: 403 });
      expect(await response.text()).toBe('FORBIDDEN');
    }
  });

  it('When verifySignedUrl checks a link, then it accepts it before expiry, and refuses it after or under another secret', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const signer = new FilesystemObjectStorage({ root, signingSecret: SECRET, clock: () => now });
    return signer.signedUrl('users/g/a.png', { expiresInSeconds: 30 }).then((link) => {
      expect(link.startsWith('/objects/users/g/a.png?')).toBe(true);
      const options = { secret: SECRET, basePath: '/objects' };
      expect(verifySignedUrl(link, { ...options, now: new Date(now.getTime() + 29_000) })).toEqual({
        key: 'users/g/a.png',
        expiresAt: new Date(now.getTime() + 30_000),
      });
      const refusal = (check: () => unknown) => {
        try {
          check();
        } catch (error) {
          return error instanceof AppError ? `${error.code}: ${error.message}` : String(error);
        }
        return 'accepted';
      };
      expect(
        refusal(() => verifySignedUrl(link, { ...options, now: new Date(now.getTime() + 30_000) })),
      ).toBe('FORBIDDEN: The download link has expired');
      expect(refusal(() => verifySignedUrl(link, { ...options, secret: SECRET + 'x', now }))).toBe(
        'FORBIDDEN: The download link has a bad signature',
      );
      expect(refusal(() => verifySignedUrl('/elsewhere/users/g/a.png', { ...options, now }))).toBe(
        'FORBIDDEN: The download link is not a signed object link',
      );
    });
  });

  it('When a signing secret is shorter than 32 characters, then the storage refuses to start', () => {
    expect(() => new FilesystemObjectStorage({ root, signingSecret: 'short' })).toThrow(
      'at least 32 characters',
    );
  });
});
