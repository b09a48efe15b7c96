import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { CONTEXT_OCR_QUEUE } from '../src/events/ocr.consumer.js';
import {
  callsAs,
  createContextEnv,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';
import { renderTextImage } from './support/text-image.js';

// The worker deployment: the same app as `src/worker.ts` starts it (role 'worker'), beside an API
// process whose in-process workers are switched off. Only the worker may take the OCR queue.
describe('context-service worker role', () => {
  let env: ServiceTestEnv;
  let api: RunningContextService;
  let worker: RunningContextService | undefined;
  let broker: ChannelModel;
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'te-worker-role-'));
    env = await createContextEnv();
    api = await startContextService(env, {
      STORAGE_FS_ROOT: root,
      OCR_WORKER_ENABLED: 'false',
      REPLY_WORKER_ENABLED: 'false',
    });
    broker = await connect(env.amqp.url, { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await broker?.close();
    await worker?.stop();
    await api?.stop();
    await env?.cleanup();
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  async function ocrQueue(): Promise<{ messageCount: number; consumerCount: number }> {
    const channel = await broker.createChannel();
    try {
      return await channel.checkQueue(`${env.amqp.queuePrefix}${CONTEXT_OCR_QUEUE}`);
    } finally {
      await channel.close();
    }
  }

  it('When the API process runs without workers, then OCR jobs wait in the queue, and a worker process started from the same image processes them', async () => {
    const user = callsAs(api.client, randomUUID());
    const { session } = await user.create({});
    const { attachment } = await user.upload({
      sessionId: session!.id,
      filename: 'screen.png',
      declaredContentType: 'image/png',
      data: await renderTextImage({ lines: ['Disk quota exceeded'] }),
    });

    // Nobody consumes: the job sits in the work queue and the attachment stays pending.
    await waitFor(async () => (await ocrQueue()).messageCount === 1, {
      timeoutMs: 10_000,
      description: 'the OCR job in the queue',
    });
    expect(await ocrQueue()).toMatchObject({ messageCount: 1, consumerCount: 0 });
    expect((await user.attachment(session!.id, attachment!.id)).attachment?.status).toBe('pending');

    worker = await startContextService(env, { STORAGE_FS_ROOT: root }, { role: 'worker' });

    const processed = await waitFor(
      async () => {
        const { attachment: current } = await user.attachment(session!.id, attachment!.id);
        return current?.status === 'processed' && current;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'the worker to process the screenshot' },
    );
    expect(processed.ocrText.toLowerCase()).toContain('quota');
    expect(await ocrQueue()).toMatchObject({ messageCount: 0, consumerCount: 1 });
  }, 120_000);
});
