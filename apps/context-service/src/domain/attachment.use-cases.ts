import type { Readable } from 'node:stream';
import { AppError } from '@te/platform';
import { normaliseScreenshot } from '../images/normalise-screenshot.js';
import { putContentAddressed } from '../storage/content-addressed.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { Attachment, NewAttachment } from './attachment.js';
import { ocrRequestedEvent } from './attachment-events.js';
import type { EventsOf, SessionStates } from './ports.js';
import { notFound, requireId } from './session.use-cases.js';

export interface AttachmentStore {
  createPending(input: NewAttachment, events: EventsOf<Attachment>): Promise<Attachment | undefined>;
  findOwned(userId: string, sessionId: string, id: string): Promise<Attachment | undefined>;
}

export interface AttachmentLimits {
  maxBytes: number;
  maxDimension: number;
  maxPixels: number;
}

export interface AttachmentDeps {
  attachments: AttachmentStore;
  storage: ObjectStorage;
  states: SessionStates;
  limits: AttachmentLimits;
  source: string;
}

/**
 * Stores a screenshot in one of the user's sessions: the bytes decide the type (PNG, JPEG or WebP; a
 * declared type is never consulted), the image is normalised (metadata stripped, bounded), stored under
 * the user's content-addressed prefix, and the pending row is inserted with its OCR job in the outbox
 * in one transaction. The session is checked before anything is stored.
 */
export async function uploadAttachment(
  userId: string,
  input: { sessionId: string; data: Buffer },
  deps: AttachmentDeps,
): Promise<Attachment> {
  requireId(input.sessionId, 'session_id');
  const sessionId = input.sessionId.toLowerCase();
  if (input.data.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'The file is empty', {
      fields: [{ field: 'data', message: 'must not be empty' }],
    });
  }
  if (input.data.length > deps.limits.maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${deps.limits.maxBytes} bytes`, {
      details: { max_bytes: deps.limits.maxBytes },
    });
  }
  if (!(await deps.states.get(userId, sessionId))) throw notFound();

  const image = await normaliseScreenshot(input.data, {
    maxWidth: deps.limits.maxDimension,
    maxHeight: deps.limits.maxDimension,
    maxPixels: deps.limits.maxPixels,
    maxInputBytes: deps.limits.maxBytes,
  });
  const stored = await putContentAddressed(deps.storage, {
    userId,
    body: image.data,
    extension: 'png',
    contentType: image.mediaType,
    contentLength: image.data.length,
  });
  const attachment = await deps.attachments.createPending(
    {
      sessionId,
      userId,
      objectKey: stored.key,
      contentType: image.mediaType,
      sizeBytes: stored.size,
      sha256: stored.sha256,
      width: image.width,
      height: image.height,
    },
    (created) => [ocrRequestedEvent(created, deps.source)],
  );
  // Deleted meanwhile: the object stays under the user's prefix (content-addressed, maybe shared) and
  // goes with the account.
  if (!attachment) throw notFound();
  await deps.states.refresh(sessionId);
  return attachment;
}

/** One attachment of one of the user's sessions. */
export async function getAttachment(
  userId: string,
  input: { sessionId: string; attachmentId: string },
  deps: Pick<AttachmentDeps, 'attachments'>,
): Promise<Attachment> {
  requireId(input.sessionId, 'session_id');
  requireId(input.attachmentId, 'attachment_id');
  const attachment = await deps.attachments.findOwned(
    userId,
    input.sessionId.toLowerCase(),
    input.attachmentId.toLowerCase(),
  );
  if (!attachment) throw new AppError('NOT_FOUND', 'Attachment not found');
  return attachment;
}

/** Largest piece of an attachment's bytes sent in one message. */
export const CONTENT_CHUNK_BYTES = 64 * 1024;

/**
 * The stored bytes of one attachment of one of the user's sessions, in pieces of at most
 * CONTENT_CHUNK_BYTES as object storage delivers them. Ownership is checked (exactly as getAttachment)
 * and the object opened before this resolves, so a refusal comes before any byte. Returning early
 * (the caller went away) or `signal` aborting closes the storage stream.
 */
export async function openAttachmentContent(
  userId: string,
  input: { sessionId: string; attachmentId: string },
  deps: Pick<AttachmentDeps, 'attachments' | 'storage'>,
  signal?: AbortSignal,
): Promise<{ attachment: Attachment; chunks: AsyncGenerator<Buffer, void, undefined> }> {
  const attachment = await getAttachment(userId, input, deps);
  const body = await deps.storage.get(attachment.objectKey);
  return { attachment, chunks: inChunks(body, CONTENT_CHUNK_BYTES, signal) };
}

async function* inChunks(
  body: Readable,
  maxBytes: number,
  signal?: AbortSignal,
): AsyncGenerator<Buffer, void, undefined> {
  const stop = () => body.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const piece of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
      for (let offset = 0; offset < bytes.length; offset += maxBytes) {
        yield bytes.subarray(offset, offset + maxBytes);
      }
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    body.destroy();
  }
}
