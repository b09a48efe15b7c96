import { createEvent, type EventEnvelope } from '@te/events';
import type { Attachment } from './attachment.js';

/**
 * The OCR work queue's job: written to the outbox with the attachment row, consumed by context-service's
 * own queue (CONTEXT_OCR_QUEUE). Ids only, like every context event (docs/events.md).
 */
export const CONTEXT_ATTACHMENT_OCR_REQUESTED = 'context.attachment.ocr_requested';
/** OCR of an attachment is done (processed or failed for good). Never carries the recognised text. */
export const CONTEXT_ATTACHMENT_PROCESSED = 'context.attachment.processed';

export interface AttachmentOcrRequestedData {
  attachment_id: string;
  session_id: string;
  user_id: string;
}

export interface AttachmentProcessedData {
  attachment_id: string;
  session_id: string;
  user_id: string;
  status: 'processed' | 'failed';
  /** Mean word confidence 0–100 (0 when failed). */
  confidence: number;
  /** Length of the recognised text in Unicode code points (0 when failed). */
  text_length: number;
  /** The AppError code when failed. */
  error_code?: string;
  processed_at: string;
}

export function ocrRequestedEvent(
  attachment: Attachment,
  source: string,
): EventEnvelope<AttachmentOcrRequestedData> {
  return createEvent({
    type: CONTEXT_ATTACHMENT_OCR_REQUESTED,
    source,
    subject: attachment.id,
    data: { attachment_id: attachment.id, session_id: attachment.sessionId, user_id: attachment.userId },
  });
}

export function attachmentProcessedEvent(
  attachment: Attachment,
  errorCode: string | undefined,
  source: string,
): EventEnvelope<AttachmentProcessedData> {
  const failed = attachment.status === 'failed';
  return createEvent({
    type: CONTEXT_ATTACHMENT_PROCESSED,
    source,
    subject: attachment.sessionId,
    data: {
      attachment_id: attachment.id,
      session_id: attachment.sessionId,
      user_id: attachment.userId,
      status: failed ? 'failed' : 'processed',
      confidence: failed ? 0 : (attachment.ocrConfidence ?? 0),
      text_length: failed ? 0 : [...(attachment.ocrText ?? '')].length,
      ...(errorCode ? { error_code: errorCode } : {}),
      processed_at: (attachment.processedAt ?? new Date()).toISOString(),
    },
  });
}
