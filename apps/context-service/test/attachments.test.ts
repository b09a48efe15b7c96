import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { CONTEXT_ATTACHMENT_PROCESSED } from '../src/domain/attachment-events.js';
import {
  callsAs,
  createContextEnv,
  failure,
  observeEvents,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';
import { renderTextImage } from './support/text-image.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

// Upload → object storage → OCR work queue → processed, with the service in-process on real PostgreSQL,
// Redis, RabbitMQ, the filesystem storage driver and tesseract.js.
describe('attachments: upload, OCR in the background, erasure', () => {
  let env: ServiceTestEnv;
  let service: RunningContextService;
  let root: string;
  let events: Awaited<ReturnType<typeof observeEvents>>;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'te-attachments-'));
    env = await createContextEnv();
    service = await startContextService(env, {
      STORAGE_FS_ROOT: root,
      ATTACHMENT_MAX_BYTES: String(200 * 1024),
    });
    events = await observeEvents(env, 'test-observer.attachments', [CONTEXT_ATTACHMENT_PROCESSED]);
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await service?.stop();
    await env?.cleanup();
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('When a screenshot with text is uploaded, then it is stored pending under the user’s prefix, then processed with its text, and context.attachment.processed carries no text', async () => {
    const userId = randomUUID();
    const user = callsAs(service.client, userId);
    const { session } = await user.create({});
    const png = await renderTextImage({ lines: ['Invoice overdue', 'Payment failed'] });

    const { attachment } = await user.upload({
      sessionId: session!.id,
      filename: 'screen.png',
      declaredContentType: 'text/plain',
      data: png,
    });
    expect(attachment).toMatchObject({
      status: 'pending',
      contentType: 'image/png',
      width: 1000,
      height: 300,
    });
    expect(await filesUnder(root)).toEqual([
      expect.stringMatching(new RegExp(`^users/${userId}/sha256/[0-9a-f]{64}\\.png$`)),
    ]);

    const processed = await waitFor(
      async () => {
        const { attachment: current } = await user.attachment(session!.id, attachment!.id);
        if (current?.status !== 'processed') throw new Error(`status ${current?.status}`);
        return current;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'the attachment to be processed' },
    );
    expect(processed.ocrText.toLowerCase()).toContain('invoice');
    expect(processed.ocrText.toLowerCase()).toContain('payment');
    expect(processed.ocrConfidence).toBeGreaterThan(50);
    expect(processed.processedAt).not.toBe('');

    const event = await waitFor(
      async () => {
        const found = events.received.find((e) => e.data['attachment_id'] === attachment!.id);
        if (!found) throw new Error('not yet');
        return found;
      },
      { timeoutMs: 15_000, description: 'context.attachment.processed' },
    );
    expect(event.data).toMatchObject({
      session_id: session!.id,
      user_id: userId,
      status: 'processed',
      text_length: [...processed.ocrText].length,
    });
    expect(JSON.stringify(event)).not.toContain('Invoice');

    const state = await user.get(session!.id);
    expect(state.session?.id).toBe(session!.id);
  }, 90_000);

  it('When the bytes are not an image, whatever the declared type, then it is UNSUPPORTED_MEDIA_TYPE and nothing is stored', async () => {
    const userId = randomUUID();
    const user = callsAs(service.client, userId);
    const { session } = await user.create({});
    const error = await failure(
      user.upload({
        sessionId: session!.id,
        filename: 'fake.png',
        declaredContentType: 'image/png',
        data: Buffer.from('just some text, not a PNG at all'),
      }),
    );
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await filesUnder(root)).filter((file) => file.includes(userId))).toEqual([]);
  });

  it('When the file is over ATTACHMENT_MAX_BYTES, then it is PAYLOAD_TOO_LARGE', async () => {
    const user = callsAs(service.client, randomUUID());
    const { session } = await user.create({});
    const error = await failure(
      user.upload({ sessionId: session!.id, data: Buffer.alloc(200 * 1024 + 1, 0x89) }),
    );
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('When another user uploads to or reads from a session, then both are NOT_FOUND', async () => {
    const owner = callsAs(service.client, randomUUID());
    const other = callsAs(service.client, randomUUID());
    const { session } = await owner.create({});
    const png = await renderTextImage({ lines: ['Hello'] });
    const { attachment } = await owner.upload({ sessionId: session!.id, data: png });

    expect((await failure(other.upload({ sessionId: session!.id, data: png }))).code).toBe('NOT_FOUND');
    expect((await failure(other.attachment(session!.id, attachment!.id))).code).toBe('NOT_FOUND');
    expect((await failure(owner.attachment(session!.id, randomUUID()))).code).toBe('NOT_FOUND');
  }, 30_000);
});
