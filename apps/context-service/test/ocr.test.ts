import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppError } from '@te/platform';
import sharp from 'sharp';
import { TesseractOcrEngine } from '../src/ocr/tesseract.ocr-engine.js';
import { blankImage, renderTextImage } from './support/text-image.js';

jest.setTimeout(60_000);

const INVOICE = ['Invoice total 1234 EUR', 'Payment due within 30 days'];

describe('TesseractOcrEngine', () => {
  const engine = new TesseractOcrEngine();
  afterAll(() => engine.close());

  it('When a screenshot of two text lines is recognised, then its words come back in order with high confidence and line boxes', async () => {
    const png = await renderTextImage({ lines: INVOICE });

    const result = await engine.recognise(png);

    const text = result.text.toLowerCase();
    for (const word of ['invoice', 'total', '1234', 'eur', 'payment', 'due', 'within', '30', 'days']) {
      expect(text).toContain(word);
    }
    expect(result.confidence).toBeGreaterThan(60);
    expect(result.words).toBe(9);
    expect(result.lines).toHaveLength(2);
    const [first, second] = result.lines;
    expect(first.text.toLowerCase()).toContain('invoice total');
    expect(second.text.toLowerCase()).toContain('payment due');
    for (const line of result.lines) {
      expect(line.confidence).toBeGreaterThan(60);
      // Text starts at x=40 on a 1000×300 image; a box is inside the image and not degenerate.
      expect(line.bbox.x0).toBeGreaterThanOrEqual(30);
      expect(line.bbox.x0).toBeLessThan(60);
      expect(line.bbox.x1).toBeGreaterThan(line.bbox.x0 + 200);
      expect(line.bbox.x1).toBeLessThanOrEqual(1000);
      expect(line.bbox.y1).toBeGreaterThan(line.bbox.y0);
      expect(line.bbox.y1).toBeLessThanOrEqual(300);
    }
    expect(second.bbox.y0).toBeGreaterThan(first.bbox.y1);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('When the screenshot is a transparent PNG, then the text is still read (transparency becomes white)', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="120"><text x="20" y="70" font-family="sans-serif" font-size="40" fill="#000">Transparent receipt 42</text></svg>`;
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    expect((await sharp(png).metadata()).hasAlpha).toBe(true);

    const result = await engine.recognise(png);

    expect(result.text.toLowerCase()).toContain('transparent receipt 42');
  });

  it('When the image is blank, then the result is empty with zero confidence, not an error', async () => {
    const result = await engine.recognise(await blankImage());

    expect(result).toMatchObject({ text: '', words: 0, confidence: 0, lines: [] });
  });

  it('When the buffer is not an image, then recognise rejects with a 415 AppError', async () => {
    const error = await engine
      .recognise(Buffer.from('definitely not a PNG'))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 });
  });

  it('When the buffer is empty, then recognise rejects with a 415 AppError', async () => {
    await expect(engine.recognise(Buffer.alloc(0))).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('When the image is an SVG, then it is refused with 415 rather than rendered', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>');

    await expect(engine.recognise(svg)).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      httpStatus: 415,
    });
  });

  it('When two jobs arrive at once on a one-worker pool, then both are recognised', async () => {
    const [a, b] = await Promise.all([
      renderTextImage({ lines: ['Alpha order 17'], height: 150 }),
      renderTextImage({ lines: ['Bravo order 29'], height: 150 }),
    ]);

    const [first, second] = await Promise.all([engine.recognise(a), engine.recognise(b)]);

    expect(first.text.toLowerCase()).toContain('alpha order 17');
    expect(second.text.toLowerCase()).toContain('bravo order 29');
  });

  it('When a running job is cancelled, then it rejects with UNAVAILABLE and the engine still serves the next job', async () => {
    const page = Array.from({ length: 40 }, (_, index) => `Line ${index} of a long page of small print text`);
    const big = await renderTextImage({ lines: page, width: 2400, height: 3000, fontSize: 36 });
    const controller = new AbortController();
    const cancelled = engine.recognise(big, { signal: controller.signal });
    // Recognising this page takes seconds here; 300 ms in, the worker is busy with it.
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = Date.now();
      controller.abort();
    }, 300);

    await expect(cancelled).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'The OCR job was cancelled',
    });
    // The caller is released at once instead of waiting for the worker to finish the page.
    expect(Date.now() - abortedAt).toBeLessThan(500);

    const next = await engine.recognise(await renderTextImage({ lines: ['Still working 7'], height: 150 }));
    expect(next.text.toLowerCase()).toContain('still working 7');
  });

  it('When OCR has run, then no language data was cached into the working directory', () => {
    expect(existsSync(path.join(process.cwd(), 'eng.traineddata'))).toBe(false);
  });
});

describe('TesseractOcrEngine limits and failures', () => {
  it('When the image has more pixels than allowed, then it is refused with 413 before any worker starts', async () => {
    const engine = new TesseractOcrEngine({ maxPixels: 1000 });
    try {
      const error = await engine.recognise(await blankImage(100, 100)).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
    } finally {
      await engine.close();
    }
  });

  it('When a job outlives its timeout, then it rejects with DEADLINE_EXCEEDED', async () => {
    const engine = new TesseractOcrEngine({ jobTimeoutMs: 1 });
    try {
      const png = await renderTextImage({ lines: INVOICE });
      await expect(engine.recognise(png)).rejects.toMatchObject({
        code: 'DEADLINE_EXCEEDED',
        httpStatus: 504,
      });
    } finally {
      await engine.close();
    }
  });

  it('When the language data folder has no eng data, then recognise fails with INTERNAL naming it (nothing is downloaded)', async () => {
    const emptyDir = mkdtempSync(path.join(tmpdir(), 'ocr-no-data-'));
    const engine = new TesseractOcrEngine({ langPath: emptyDir });
    try {
      const error = await engine.recognise(await blankImage()).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INTERNAL' });
      expect((error as Error).message).toContain(path.join(emptyDir, 'eng.traineddata.gz'));
    } finally {
      await engine.close();
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('When the engine is closed, then recognise rejects with UNAVAILABLE', async () => {
    const engine = new TesseractOcrEngine();
    await engine.recognise(await blankImage());
    await engine.close();

    await expect(engine.recognise(await blankImage())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('When the pool size is not a positive integer, then the engine refuses to start', () => {
    expect(() => new TesseractOcrEngine({ poolSize: 0 })).toThrow(RangeError);
  });
});
