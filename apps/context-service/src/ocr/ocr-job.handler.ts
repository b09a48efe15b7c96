import { AppError, type ErrorCode, type Logger } from '@te/platform';
import type { OcrEngine, OcrResult } from './ocr-engine.js';

/** What is stored for an attachment and carried by context.attachment.processed. */
export type OcrJobResult =
  { status: 'processed'; ocr: OcrResult } | { status: 'failed'; error: { code: ErrorCode; message: string } };

export interface OcrJob {
  attachmentId: string;
}

export type OcrJobOutcome = OcrJobResult['status'] | 'skipped';

export interface OcrJobHandlerDependencies {
  engine: OcrEngine;
  /** The stored result of an earlier run, or null: a redelivered job then skips the OCR. */
  findSavedResult(attachmentId: string): Promise<OcrJobResult | null>;
  /** The uploaded image. Throw an AppError with a 4xx code (NOT_FOUND…) when it can never be loaded. */
  loadImage(attachmentId: string): Promise<Buffer>;
  saveResult(attachmentId: string, result: OcrJobResult): Promise<void>;
  publishProcessed(attachmentId: string, result: OcrJobResult): Promise<void>;
  logger: Logger;
}

/**
 * Handles one "OCR this attachment" job from the work queue. The outcome is for logs and tests; what
 * matters is the contract with the bus:
 * - resolves when the job is done for good: processed, or failed permanently (the image is not an
 *   image, too large, gone: any AppError with a 4xx code), the failure saved and published so nobody waits;
 * - rejects for anything worth retrying (storage or database down, OCR timeout), so the bus redelivers
 *   with back-off and finally dead-letters it.
 * Redelivery is expected (at-least-once): a saved result skips the OCR but is published again, because
 * the previous run may have died between saving and publishing; consumers of the event are idempotent.
 */
export function createOcrJobHandler(deps: OcrJobHandlerDependencies) {
  const { engine, logger } = deps;

  return async function handleOcrJob(
    job: OcrJob,
    options: { signal?: AbortSignal } = {},
  ): Promise<OcrJobOutcome> {
    const attachmentId = typeof job?.attachmentId === 'string' ? job.attachmentId.trim() : '';
    if (attachmentId === '') {
      throw new AppError('VALIDATION_FAILED', 'An OCR job needs an attachmentId', {
        fields: [{ field: 'attachmentId', message: 'Required' }],
      });
    }
    const log = logger.child({ attachment_id: attachmentId });

    const saved = await deps.findSavedResult(attachmentId);
    if (saved) {
      await deps.publishProcessed(attachmentId, saved);
      log.info('ocr job skipped: result already saved', { ocr_status: saved.status });
      return 'skipped';
    }

    let result: OcrJobResult;
    try {
      const image = await deps.loadImage(attachmentId);
      result = { status: 'processed', ocr: await engine.recognise(image, options) };
    } catch (error) {
      if (!isPermanent(error)) {
        const message = error instanceof Error ? error.message : String(error);
        log.warn('ocr job failed, will be retried', {
          error_code: AppError.from(error).code,
          error_message: message,
        });
        throw error;
      }
      result = { status: 'failed', error: { code: error.code, message: error.message } };
    }

    await deps.saveResult(attachmentId, result);
    await deps.publishProcessed(attachmentId, result);
    if (result.status === 'processed') {
      // Never the text itself: screenshots carry whatever was on the user's screen.
      const { confidence, words, durationMs } = result.ocr;
      log.info('ocr job processed', { confidence, words, duration_ms: durationMs });
    } else {
      log.warn('ocr job failed permanently', { error_code: result.error.code });
    }
    return result.status;
  };
}

export type OcrJobHandler = ReturnType<typeof createOcrJobHandler>;

function isPermanent(error: unknown): error is AppError {
  return error instanceof AppError && error.httpStatus < 500;
}
