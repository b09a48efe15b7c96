import type { SubscribeOptions } from '@te/events';
import { AppError, type Logger } from '@te/platform';
import type { AttachmentRepository } from '../db/attachment.repository.js';
import { readBounded } from '../storage/byte-limit.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import {
  attachmentProcessedEvent,
  CONTEXT_ATTACHMENT_OCR_REQUESTED,
  type AttachmentOcrRequestedData,
} from '../domain/attachment-events.js';
import type { SessionStates } from '../domain/ports.js';
import { createOcrJobHandler } from '../ocr/ocr-job.handler.js';
import type { OcrEngine } from '../ocr/ocr-engine.js';

/** The OCR work queue: every replica (or the separate worker deployment) competes for its jobs. */
export const CONTEXT_OCR_QUEUE = 'context-service.ocr';

/** The OCR work queue, declared by every context-service process (host.declareQueue) and consumed by workers. */
export const OCR_WORK_QUEUE = { queue: CONTEXT_OCR_QUEUE, bindings: [CONTEXT_ATTACHMENT_OCR_REQUESTED] };

/**
 * `context.attachment.ocr_requested` → OCR of the stored image, result saved on the row, then
 * `context.attachment.processed` through the outbox. Redelivery is safe: a saved result is not
 * recognised again, only announced again (see createOcrJobHandler).
 */
export function ocrSubscription(deps: {
  attachments: AttachmentRepository;
  storage: ObjectStorage;
  states: SessionStates;
  engine: OcrEngine;
  maxImageBytes: number;
  source: string;
  logger: Logger;
}): SubscribeOptions<AttachmentOcrRequestedData> {
  const errors = new Map<string, string>();
  const handle = createOcrJobHandler({
    engine: deps.engine,
    logger: deps.logger,
    findSavedResult: (id) => deps.attachments.findSavedResult(id),
    async loadImage(id) {
      const attachment = await deps.attachments.find(id);
      if (!attachment) throw new AppError('NOT_FOUND', 'Attachment not found');
      return readBounded(await deps.storage.get(attachment.objectKey), deps.maxImageBytes);
    },
    async saveResult(id, result) {
      if (result.status === 'failed') errors.set(id, result.error.code);
      await deps.attachments.saveResult(id, result);
    },
    async publishProcessed(id) {
      const errorCode = errors.get(id);
      errors.delete(id);
      const written = await deps.attachments.enqueue(id, (attachment) =>
        attachment.status === 'pending' ? [] : [attachmentProcessedEvent(attachment, errorCode, deps.source)],
      );
      const attachment = written ? await deps.attachments.find(id) : undefined;
      if (attachment) await deps.states.refresh(attachment.sessionId);
    },
  });
  return {
    ...OCR_WORK_QUEUE,
    handler: async (event) => {
      await handle({ attachmentId: event.data?.attachment_id });
    },
  };
}
