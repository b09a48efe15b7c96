import { AppError, captureLogger } from '@te/platform';
import {
  createOcrJobHandler,
  type OcrJobHandlerDependencies,
  type OcrJobResult,
} from '../src/ocr/ocr-job.handler.js';
import { TesseractOcrEngine } from '../src/ocr/tesseract.ocr-engine.js';
import { renderTextImage } from './support/text-image.js';

jest.setTimeout(60_000);

/** In-memory stand-ins for the handler's own callbacks (the lead wires them to storage, Prisma and the bus). */
function createWorld(engine: TesseractOcrEngine, overrides: Partial<OcrJobHandlerDependencies> = {}) {
  const images = new Map<string, Buffer>();
  const saved = new Map<string, OcrJobResult>();
  const published: { attachmentId: string; result: OcrJobResult }[] = [];
  const loaded: string[] = [];
  const capture = captureLogger('context-service');
  const handle = createOcrJobHandler({
    engine,
    logger: capture.logger,
    findSavedResult: async (attachmentId) => saved.get(attachmentId) ?? null,
    loadImage: async (attachmentId) => {
      loaded.push(attachmentId);
      const image = images.get(attachmentId);
      if (!image) throw new AppError('NOT_FOUND', `Attachment ${attachmentId} not found`);
      return image;
    },
    saveResult: async (attachmentId, result) => {
      saved.set(attachmentId, result);
    },
    publishProcessed: async (attachmentId, result) => {
      published.push({ attachmentId, result });
    },
    ...overrides,
  });
  return { handle, images, saved, published, loaded, capture };
}

describe('OCR job handler', () => {
  const engine = new TesseractOcrEngine();
  let screenshot: Buffer;
  beforeAll(async () => {
    screenshot = await renderTextImage({ lines: ['Order 5521 shipped', 'Tracking code ZX81'] });
  });
  afterAll(() => engine.close());

  it('When a screenshot job runs, then the recognised text is saved, published once, and the log has no text', async () => {
    const world = createWorld(engine);
    world.images.set('att-1', screenshot);

    await expect(world.handle({ attachmentId: 'att-1' })).resolves.toBe('processed');

    const result = world.saved.get('att-1');
    expect(result?.status).toBe('processed');
    if (result?.status !== 'processed') throw new Error('unreachable');
    expect(result.ocr.text.toLowerCase()).toContain('order 5521 shipped');
    expect(result.ocr.confidence).toBeGreaterThan(60);
    expect(result.ocr.lines).toHaveLength(2);
    expect(world.published).toEqual([{ attachmentId: 'att-1', result }]);
    const line = world.capture.lines().find((entry) => entry.message === 'ocr job processed');
    expect(line).toMatchObject({ attachment_id: 'att-1', words: result.ocr.words, level: 'info' });
    expect(world.capture.text()).not.toMatch(/5521|ZX81/);
  });

  it('When the job is redelivered after a result was saved, then OCR is skipped and the saved result is published again', async () => {
    const world = createWorld(engine);
    const earlier: OcrJobResult = {
      status: 'processed',
      ocr: { text: 'earlier', confidence: 90, words: 1, lines: [], durationMs: 5 },
    };
    world.saved.set('att-2', earlier);
    world.images.set('att-2', screenshot);

    await expect(world.handle({ attachmentId: 'att-2' })).resolves.toBe('skipped');

    expect(world.loaded).toEqual([]);
    expect(world.saved.get('att-2')).toBe(earlier);
    expect(world.published).toEqual([{ attachmentId: 'att-2', result: earlier }]);
  });

  it('When the attachment is not an image, then a permanent failure is saved and published and the job completes', async () => {
    const world = createWorld(engine);
    world.images.set('att-3', Buffer.from('%PDF-1.7 not a screenshot'));

    await expect(world.handle({ attachmentId: 'att-3' })).resolves.toBe('failed');

    const failed = {
      status: 'failed',
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) },
    };
    expect(world.saved.get('att-3')).toEqual(failed);
    expect(world.published).toEqual([{ attachmentId: 'att-3', result: failed }]);
    expect(world.capture.lines()).toContainEqual(
      expect.objectContaining({
        message: 'ocr job failed permanently',
        error_code: 'UNSUPPORTED_MEDIA_TYPE',
      }),
    );

    // A redelivery of the same job does not try again.
    await expect(world.handle({ attachmentId: 'att-3' })).resolves.toBe('skipped');
    expect(world.loaded).toEqual(['att-3']);
  });

  it('When the attachment no longer exists, then the job fails permanently with NOT_FOUND', async () => {
    const world = createWorld(engine);

    await expect(world.handle({ attachmentId: 'att-gone' })).resolves.toBe('failed');

    expect(world.saved.get('att-gone')).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } });
    expect(world.published).toHaveLength(1);
  });

  it('When loading the image fails transiently, then the handler rejects for a retry and saves and publishes nothing', async () => {
    const world = createWorld(engine, {
      loadImage: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
      },
    });

    await expect(world.handle({ attachmentId: 'att-4' })).rejects.toThrow('ECONNREFUSED');

    expect(world.saved.size).toBe(0);
    expect(world.published).toEqual([]);
    expect(world.capture.lines()).toContainEqual(
      expect.objectContaining({ message: 'ocr job failed, will be retried', error_code: 'INTERNAL' }),
    );
  });

  it('When saving the result fails, then the handler rejects and nothing is published', async () => {
    const world = createWorld(engine, {
      saveResult: async () => {
        throw new AppError('UNAVAILABLE', 'database is down');
      },
    });
    world.images.set('att-5', screenshot);

    await expect(world.handle({ attachmentId: 'att-5' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    expect(world.published).toEqual([]);
  });

  it('When OCR times out, then the handler rejects with DEADLINE_EXCEEDED so the bus retries, saving nothing', async () => {
    const impatient = new TesseractOcrEngine({ jobTimeoutMs: 1 });
    try {
      const world = createWorld(impatient);
      world.images.set('att-6', screenshot);

      await expect(world.handle({ attachmentId: 'att-6' })).rejects.toMatchObject({
        code: 'DEADLINE_EXCEEDED',
      });

      expect(world.saved.size).toBe(0);
      expect(world.published).toEqual([]);
    } finally {
      await impatient.close();
    }
  });

  it('When the job has no attachmentId, then it is rejected with VALIDATION_FAILED before any work', async () => {
    const world = createWorld(engine);

    await expect(world.handle({ attachmentId: '  ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

    expect(world.loaded).toEqual([]);
  });
});
