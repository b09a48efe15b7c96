import { enqueueEvent } from '@te/events';
import type { OcrJobResult } from '../ocr/ocr-job.handler.js';
import type { Attachment, NewAttachment } from '../domain/attachment.js';
import type { EventsOf } from '../domain/ports.js';
import type { ContextDb } from './prisma-client.js';

type AttachmentRow = Awaited<ReturnType<ContextDb['attachment']['findUniqueOrThrow']>>;

/** Attachments in PostgreSQL; methods taking a user id only ever see that user's rows. */
export class AttachmentRepository {
  constructor(
    private readonly db: ContextDb,
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  /**
   * Inserts a pending attachment with its events (the OCR job) in one transaction; undefined when the
   * session is not the user's. Bumping the session's activity first locks it against a concurrent delete.
   */
  async createPending(input: NewAttachment, events: EventsOf<Attachment>): Promise<Attachment | undefined> {
    const created = await this.db.$transaction(async (tx) => {
      const now = new Date();
      const { count } = await tx.session.updateMany({
        where: { id: input.sessionId, userId: input.userId },
        data: { lastActivityAt: now },
      });
      if (count === 0) return undefined;
      const attachment = toAttachment(
        await tx.attachment.create({ data: { ...input, status: 'pending', createdAt: now } }),
      );
      for (const event of events(attachment)) await enqueueEvent(tx, event);
      return attachment;
    });
    if (created) this.onEventsCommitted();
    return created;
  }

  async findOwned(userId: string, sessionId: string, id: string): Promise<Attachment | undefined> {
    const row = await this.db.attachment.findFirst({ where: { id, sessionId, userId } });
    return row ? toAttachment(row) : undefined;
  }

  async find(id: string): Promise<Attachment | undefined> {
    const row = await this.db.attachment.findUnique({ where: { id } });
    return row ? toAttachment(row) : undefined;
  }

  /** The OCR outcome already stored for an attachment (null while pending or when it is gone). */
  async findSavedResult(id: string): Promise<OcrJobResult | null> {
    const row = await this.db.attachment.findUnique({ where: { id } });
    if (!row || row.status === 'pending') return null;
    if (row.status === 'failed') {
      return { status: 'failed', error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'OCR failed' } };
    }
    return {
      status: 'processed',
      ocr: {
        text: row.ocrText ?? '',
        confidence: row.ocrConfidence ?? 0,
        words: 0,
        lines: [],
        durationMs: 0,
      },
    };
  }

  /** Stores the OCR outcome of a pending attachment; a no-op when it is gone or already done. */
  async saveResult(id: string, result: OcrJobResult): Promise<void> {
    await this.db.attachment.updateMany({
      where: { id, status: 'pending' },
      data:
        result.status === 'processed'
          ? {
              status: 'processed',
              ocrText: result.ocr.text,
              ocrConfidence: result.ocr.confidence,
              processedAt: new Date(),
            }
          : { status: 'failed', processedAt: new Date() },
    });
  }

  /** Writes events about a stored attachment to the outbox; false when the attachment is gone. */
  async enqueue(id: string, events: EventsOf<Attachment>): Promise<boolean> {
    const written = await this.db.$transaction(async (tx) => {
      const row = await tx.attachment.findUnique({ where: { id } });
      if (!row) return false;
      for (const event of events(toAttachment(row))) await enqueueEvent(tx, event);
      return true;
    });
    if (written) this.onEventsCommitted();
    return written;
  }
}

function toAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    sessionId: row.sessionId,
    userId: row.userId,
    objectKey: row.objectKey,
    contentType: row.contentType,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    width: row.width,
    height: row.height,
    status: row.status,
    ocrText: row.ocrText,
    ocrConfidence: row.ocrConfidence,
    createdAt: row.createdAt,
    processedAt: row.processedAt,
  };
}
