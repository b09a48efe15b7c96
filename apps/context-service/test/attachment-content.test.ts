import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import sharp from 'sharp';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { SESSION_RETENTION_JOB } from '../src/app.js';
import { CONTENT_CHUNK_BYTES } from '../src/domain/attachment.use-cases.js';
import {
  callsAs,
  createContextEnv,
  queryPool,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';
import { renderTextImage } from './support/text-image.js';

const RETENTION_DAYS = 30;

/** A PNG that does not compress (random pixels): its normalised form spans many chunks. */
async function noisyPng(side: number): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = Math.floor(Math.random() * 256);
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

// GetAttachmentContent and the objects of deleted sessions, with the service in-process on real
// PostgreSQL, Redis, RabbitMQ and the filesystem storage driver (OCR off: not what is tested here).
describe('attachment content: streamed download, and objects removed with the sessions that used them', () => {
  let env: ServiceTestEnv;
  let service: RunningContextService;
  let root: string;
  let db: pg.Pool;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'te-attachment-content-'));
    env = await createContextEnv();
    service = await startContextService(env, {
      STORAGE_FS_ROOT: root,
      ATTACHMENT_MAX_BYTES: String(4 * 1024 * 1024),
      OCR_WORKER_ENABLED: 'false',
      SESSION_RETENTION_DAYS: String(RETENTION_DAYS),
    });
    db = queryPool(env);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await db?.end();
    await env?.cleanup();
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  const objectKeyOf = async (attachmentId: string) =>
    (await db.query('SELECT object_key FROM attachments WHERE id = $1', [attachmentId])).rows[0]
      .object_key as string;
  const fileOf = (key: string) => path.join(root, ...key.split('/'));
  const exists = (key: string) =>
    stat(fileOf(key)).then(
      () => true,
      () => false,
    );

  async function uploaded(userId: string, png: Buffer, sessionId?: string) {
    const user = callsAs(service.client, userId);
    const id = sessionId ?? (await user.create({})).session!.id;
    const { attachment } = await user.upload({ sessionId: id, data: png });
    return { sessionId: id, attachmentId: attachment!.id, key: await objectKeyOf(attachment!.id) };
  }

  it('When the owner downloads an attachment, then the chunks (at most 64 KiB, total_size on the first) are exactly the stored object, whose SHA-256 is its key', async () => {
    const userId = randomUUID();
    const { sessionId, attachmentId, key } = await uploaded(userId, await noisyPng(400));

    const { chunks, error } = await callsAs(service.client, userId).content(sessionId, attachmentId);

    expect(error).toBeUndefined();
    const stored = await readFile(fileOf(key));
    const downloaded = Buffer.concat(chunks.map((chunk) => chunk.data));
    expect(downloaded.equals(stored)).toBe(true);
    expect(key).toBe(`users/${userId}/sha256/${createHash('sha256').update(downloaded).digest('hex')}.png`);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((chunk) => chunk.data.length > 0 && chunk.data.length <= CONTENT_CHUNK_BYTES)).toBe(
      true,
    );
    expect(chunks.map((chunk) => Number(chunk.totalSize))).toEqual([
      stored.length,
      ...chunks.slice(1).map(() => 0),
    ]);
  }, 30_000);

  it('When another user, an unknown id or a malformed id is asked for, then the call fails before any chunk (NOT_FOUND, NOT_FOUND, VALIDATION_FAILED)', async () => {
    const ownerId = randomUUID();
    const { sessionId, attachmentId } = await uploaded(ownerId, await renderTextImage({ lines: ['Mine'] }));
    const other = callsAs(service.client, randomUUID());
    const { session: othersSession } = await other.create({});
    const owner = callsAs(service.client, ownerId);

    const answers = await Promise.all([
      other.content(sessionId, attachmentId),
      other.content(othersSession!.id, attachmentId),
      owner.content(sessionId, randomUUID()),
      owner.content(sessionId, 'not-a-uuid'),
    ]);

    expect(answers.map((answer) => [answer.chunks.length, answer.error?.code])).toEqual([
      [0, 'NOT_FOUND'],
      [0, 'NOT_FOUND'],
      [0, 'NOT_FOUND'],
      [0, 'VALIDATION_FAILED'],
    ]);
    expect(answers[3]!.error?.fields).toEqual([expect.objectContaining({ field: 'attachment_id' })]);
  }, 30_000);

  it('When the caller cancels after the first chunk, then the server stops sending and logs the call as abandoned', async () => {
    const userId = randomUUID();
    const { sessionId, attachmentId, key } = await uploaded(userId, await noisyPng(800));
    const { size } = await stat(fileOf(key));
    const chunkCount = Math.ceil(size / CONTENT_CHUNK_BYTES);
    expect(chunkCount).toBeGreaterThan(10);

    const { chunks, error } = await callsAs(service.client, userId).content(sessionId, attachmentId, {
      stopAfter: 1,
    });

    expect([chunks.length, error]).toEqual([1, undefined]);
    const line = await waitFor(
      () => {
        const found = service.logs
          .lines()
          .find(
            (entry) =>
              entry['grpc_method'] === 'GetAttachmentContent' &&
              entry['message'] === 'gRPC call abandoned by the caller',
          );
        if (!found) throw new Error('not logged yet');
        return found;
      },
      { timeoutMs: 10_000, description: 'the abandoned call to be logged' },
    );
    expect(line['code']).toBe('CANCELLED');
    expect(Number(line['messages_sent'])).toBeLessThan(chunkCount);
  }, 30_000);

  it('When two sessions hold the same screenshot, then deleting one keeps the file and deleting the other removes it', async () => {
    const userId = randomUUID();
    const user = callsAs(service.client, userId);
    const png = await renderTextImage({ lines: ['Shared screen'] });
    const first = await uploaded(userId, png);
    const second = await uploaded(userId, png);
    expect(second.key).toBe(first.key);
    const unrelated = await uploaded(userId, await renderTextImage({ lines: ['Another screen'] }));

    await user.remove(first.sessionId);

    expect(await exists(first.key)).toBe(true);
    expect(
      Buffer.concat((await user.content(second.sessionId, second.attachmentId)).chunks.map((c) => c.data)),
    ).toEqual(await readFile(fileOf(first.key)));

    await user.remove(second.sessionId);

    expect(await exists(first.key)).toBe(false);
    expect(await exists(unrelated.key)).toBe(true);
  }, 30_000);

  it('When the retention job deletes an idle session, then its screenshot file goes, and one an active session also holds stays', async () => {
    const userId = randomUUID();
    const own = await uploaded(userId, await renderTextImage({ lines: ['Idle only'] }));
    const sharedPng = await renderTextImage({ lines: ['Idle and active'] });
    const idleShared = await uploaded(userId, sharedPng, own.sessionId);
    const active = await uploaded(userId, sharedPng);
    await db.query(`UPDATE sessions SET last_activity_at = now() - make_interval(days => $2) WHERE id = $1`, [
      own.sessionId,
      RETENTION_DAYS + 1,
    ]);

    await runJobNow(SESSION_RETENTION_JOB);

    expect((await db.query('SELECT 1 FROM sessions WHERE id = $1', [own.sessionId])).rowCount).toBe(0);
    expect(await exists(own.key)).toBe(false);
    expect(idleShared.key).toBe(active.key);
    expect(await exists(active.key)).toBe(true);
  }, 30_000);

  /** Runs a scheduled job now: releases the lock its last run keeps for its interval, then ticks it. */
  async function runJobNow(job: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await service.app.redis.del(`scheduler:context-service:${job}`);
      if (await service.app.scheduler.tick(job)) return;
      await new Promise((resolve) => setTimeout(resolve, 200)); // its periodic run got there first
    }
    throw new Error(`job ${job} did not run`);
  }
});
