import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker as NodeWorker } from 'node:worker_threads';
import { AppError, type Logger } from '@te/platform';
import Tesseract from 'tesseract.js';
import type { OcrEngine, OcrResult, RecogniseOptions } from './ocr-engine.js';
import { prepareImageForOcr } from './ocr-image.js';
import { abortable, ResourcePool } from './resource-pool.js';
import { toOcrResult } from './tesseract-result.js';

export interface TesseractOcrEngineOptions {
  /** OCR worker threads (each holds ~100 MB and one core while busy). Default 1. */
  poolSize?: number;
  /** Longest a recognise() call may take, waiting for a worker included. Default 60 s. */
  jobTimeoutMs?: number;
  /** Images above this many pixels are refused (413). Default 40 MP (e.g. 8000×5000). */
  maxPixels?: number;
  /** Folder holding eng.traineddata.gz. Default: the installed @tesseract.js-data/eng LSTM model. */
  langPath?: string;
  logger?: Logger;
}

interface TesseractWorker {
  tesseract: Tesseract.Worker;
  /** Rejects if the worker thread dies (a wasm abort, out of memory), so a job never waits on a corpse. */
  died: Promise<never>;
}

const LANGUAGE = 'eng';
// 4.0.0_best_int is the LSTM-only integer model tesseract.js itself picks for OEM.LSTM_ONLY: 2.9 MB
// against 10.9 MB for 4.0.0, which adds the legacy engine we do not use.
const DEFAULT_LANG_PATH = path.join(
  path.dirname(require.resolve('@tesseract.js-data/eng/package.json')),
  '4.0.0_best_int',
);
// Node's worker script loads `tesseract.js-core` with require(), i.e. this installed package; corePath
// only matters in browsers, but naming it keeps the engine's every input explicit.
const CORE_PATH = path.dirname(require.resolve('tesseract.js-core/package.json'));

/**
 * OCR with tesseract.js (Tesseract 5 compiled to wasm) in worker threads, fully offline: the language
 * data is read from the installed npm package (never the CDN tesseract.js falls back to without a
 * `langPath`), and `cacheMethod: 'none'` stops it from writing a traineddata copy into the working dir.
 */
export class TesseractOcrEngine implements OcrEngine {
  private readonly pool: ResourcePool<TesseractWorker>;
  private readonly closing = new AbortController();
  private readonly jobTimeoutMs: number;
  private readonly maxPixels: number;
  private readonly langPath: string;

  constructor(private readonly options: TesseractOcrEngineOptions = {}) {
    const poolSize = options.poolSize ?? 1;
    this.jobTimeoutMs = options.jobTimeoutMs ?? 60_000;
    this.maxPixels = options.maxPixels ?? 40_000_000;
    this.langPath = path.resolve(options.langPath ?? DEFAULT_LANG_PATH);
    if (!Number.isInteger(poolSize) || poolSize < 1)
      throw new RangeError('poolSize must be a positive integer');
    if (!(this.jobTimeoutMs > 0)) throw new RangeError('jobTimeoutMs must be positive');
    this.pool = new ResourcePool({
      size: poolSize,
      create: () => this.startWorker(),
      destroy: (worker) => worker.tesseract.terminate().then(() => undefined),
    });
  }

  async recognise(image: Buffer, options: RecogniseOptions = {}): Promise<OcrResult> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.jobTimeoutMs);
    const signals = [this.closing.signal, timeout, ...(options.signal ? [options.signal] : [])];
    const job = AbortSignal.any(signals);
    try {
      // Before taking a worker: an unreadable upload never occupies one.
      const prepared = await prepareImageForOcr(image, { maxPixels: this.maxPixels });
      const worker = await this.pool.acquire(job);
      let reusable = false;
      try {
        const recognised = worker.tesseract.recognize(prepared.png, {}, { text: true, blocks: true });
        const { data } = await abortable(Promise.race([recognised, worker.died]), job);
        reusable = true;
        return toOcrResult(data, performance.now() - started);
      } catch (error) {
        // Tesseract rejected the job but is idle again; a timed-out, aborted or dead one is replaced.
        reusable = !job.aborted && !(error instanceof WorkerDied);
        throw error;
      } finally {
        if (reusable) this.pool.release(worker);
        else this.pool.discard(worker);
      }
    } catch (error) {
      throw this.toAppError(error, { timeout, caller: options.signal });
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.pool.close();
  }

  private async startWorker(): Promise<TesseractWorker> {
    const dataFile = path.join(this.langPath, `${LANGUAGE}.traineddata.gz`);
    // Checked here because a worker whose language load fails is left running by tesseract.js.
    await access(dataFile).catch((error: unknown) => {
      throw new AppError('INTERNAL', `OCR language data not found at ${dataFile}`, { cause: error });
    });
    const tesseract = await Tesseract.createWorker(LANGUAGE, Tesseract.OEM.LSTM_ONLY, {
      langPath: this.langPath,
      gzip: true, // the package ships eng.traineddata.gz
      cacheMethod: 'none',
      cachePath: path.join(tmpdir(), 'te-tesseract-unused'),
      corePath: CORE_PATH,
      logger: () => undefined,
      // Without a handler tesseract.js rethrows a rejected job inside its message listener, an
      // uncaught exception; the rejection still reaches the job's own promise.
      errorHandler: () => undefined,
    });
    // Screenshots carry no or a bogus DPI; without this Tesseract prints a warning to stdout per image.
    await tesseract.setParameters({ user_defined_dpi: '96' });
    const thread = (tesseract as unknown as { worker: NodeWorker }).worker;
    const died = new Promise<never>((_resolve, reject) => {
      thread.once('error', (error) => reject(new WorkerDied(error)));
      thread.once('exit', (code) => reject(new WorkerDied(new Error(`OCR worker exited with code ${code}`))));
    });
    died.catch(() => undefined);
    this.options.logger?.debug('ocr worker started', { lang_path: this.langPath });
    return { tesseract, died };
  }

  private toAppError(error: unknown, signals: { timeout: AbortSignal; caller?: AbortSignal }): AppError {
    if (error instanceof AppError) return error;
    if (this.closing.signal.aborted) {
      return new AppError('UNAVAILABLE', 'The OCR engine is closed', { cause: error });
    }
    if (signals.caller?.aborted)
      return new AppError('UNAVAILABLE', 'The OCR job was cancelled', { cause: error });
    if (signals.timeout.aborted) {
      return new AppError('DEADLINE_EXCEEDED', `OCR took longer than ${this.jobTimeoutMs} ms`, {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/attempting to read image/i.test(message)) {
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The attachment is not a readable image', {
        cause: error,
      });
    }
    return new AppError('INTERNAL', 'OCR failed', { cause: error });
  }
}

class WorkerDied extends Error {
  constructor(cause: unknown) {
    super('The OCR worker thread died', { cause });
    this.name = 'WorkerDied';
  }
}
