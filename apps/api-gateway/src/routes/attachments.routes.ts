import busboy from 'busboy';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError, SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { ContextServiceClient } from '../clients/context-service.client.js';
import { sendData } from '../http/envelope.js';
import { writeChunk } from '../http/write-chunk.js';
import { operation } from '../openapi/operation.js';
import { attachmentSchema, uuidPath } from '../openapi/schemas.js';

export interface AttachmentLimits {
  /** Largest file accepted, in bytes (413 beyond it, without reading the rest into memory). */
  maxBytes: number;
  /** Deadline of the UploadAttachment call (normalising a large image takes longer than a read). */
  uploadDeadlineMs: number;
}

/** Parts a form may carry besides the file (ignored), and how big their names, values and headers may be. */
const FORM_LIMITS = { fields: 5, fieldSize: 1024, fieldNameSize: 100, headerPairs: 20 } as const;
/** After a 413, what the gateway still reads and throws away so the client sees the answer (see discardRest). */
const LINGER = { maxBytes: 1024 * 1024, maxMs: 5_000 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * /api/v1/sessions/:id/attachments: screenshots in one of the caller's sessions (context-service
 * stores them and runs OCR in the background). POST takes multipart/form-data with one file part named
 * `file` and answers 201 with the attachment "pending"; GET reads it, with `ocr_text` once "processed".
 * The bytes decide the type (PNG, JPEG or WebP), never the declared one. GET …/:attachmentId/content
 * streams the stored (normalised) PNG to its owner. `explain` scope, as sessions.
 */
export function attachmentRoutes(
  contexts: ContextServiceClient,
  requireAuth: RequireAuth,
  limits: AttachmentLimits,
): Router {
  const router = Router();
  const auth = requireAuth(SCOPES.explain);

  router.post(
    '/:id/attachments',
    operation({
      tag: 'attachments',
      summary: 'Upload a screenshot (PNG, JPEG or WebP)',
      description:
        'multipart/form-data with one file part named `file`; the bytes decide the type. OCR runs in the background.',
      params: { id: uuidPath },
      bodyContent: {
        'multipart/form-data': {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
        },
      },
      responses: {
        201: { description: 'The attachment, "pending"', data: z.object({ attachment: attachmentSchema }) },
      },
      errors: [
        'VALIDATION_FAILED',
        'BAD_REQUEST',
        'NOT_FOUND',
        'PAYLOAD_TOO_LARGE',
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    }),
    auth,
    async (req, res) => {
      const sessionId = uuidParam(req, 'id', 'Session id');
      // A missing or another user's session is a 404 before any byte of the file is read.
      await contexts.sessions.get(sessionId);
      const file = await readSingleFile(req, res, limits.maxBytes);
      const { attachment } = await contexts.attachments.upload(
        { sessionId, filename: file.filename, declaredContentType: file.mimeType, data: file.data },
        { deadlineMs: limits.uploadDeadlineMs },
      );
      sendData(res, 201, { attachment: presentAttachment(attachment) });
    },
  );

  router.get(
    '/:id/attachments/:attachmentId',
    operation({
      tag: 'attachments',
      summary: 'Read an attachment and its OCR text',
      params: { id: uuidPath, attachmentId: uuidPath },
      responses: {
        200: {
          description: '`ocr_text` once `status` is "processed"',
          data: z.object({ attachment: attachmentSchema }),
        },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    auth,
    async (req, res) => {
      const sessionId = uuidParam(req, 'id', 'Session id');
      const attachmentId = uuidParam(req, 'attachmentId', 'Attachment id');
      const { attachment } = await contexts.attachments.get(sessionId, attachmentId);
      sendData(res, 200, { attachment: presentAttachment(attachment) });
    },
  );

  router.get(
    '/:id/attachments/:attachmentId/content',
    operation({
      tag: 'attachments',
      summary: 'Download the stored image',
      params: { id: uuidPath, attachmentId: uuidPath },
      responses: {
        200: {
          description: 'The normalised PNG',
          content: { 'image/png': { type: 'string', contentMediaType: 'image/png' } },
        },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    auth,
    async (req, res) => {
      const sessionId = uuidParam(req, 'id', 'Session id');
      const attachmentId = uuidParam(req, 'attachmentId', 'Attachment id');
      await streamContent(res, contexts, sessionId, attachmentId);
    },
  );

  return router;
}

/**
 * GET …/content: the stored PNG, relayed chunk by chunk from context-service's GetAttachmentContent
 * (never the whole file in memory). Until the first chunk arrives nothing is sent, so a refusal (404 for
 * another user's or a missing attachment) is a normal envelope response. The client going away cancels
 * the call (and the storage read); a failure after the headers cuts the connection, so the client sees
 * a body shorter than its Content-Length rather than a truncated image taken for whole.
 */
async function streamContent(
  res: Response,
  contexts: ContextServiceClient,
  sessionId: string,
  attachmentId: string,
): Promise<void> {
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const chunks = contexts.attachments.content(sessionId, attachmentId, gone.signal)[Symbol.asyncIterator]();
  let next = await chunks.next(); // throws to the error handler: nothing has been sent yet
  if (next.done) throw new AppError('UNAVAILABLE', 'The attachment could not be read');
  res.status(200);
  res.setHeader('Content-Type', 'image/png');
  res.setHeader('Content-Length', String(Number(next.value.totalSize)));
  res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Disposition', `inline; filename="${attachmentId.toLowerCase()}.png"`);
  try {
    for (; !next.done; next = await chunks.next()) {
      await writeChunk(res, next.value.data);
      if (gone.signal.aborted) return;
    }
    res.end();
  } catch {
    if (!gone.signal.aborted) res.destroy();
  } finally {
    if (!gone.signal.aborted) await chunks.return?.();
  }
}

interface UploadedFile {
  filename: string;
  mimeType: string;
  data: Buffer;
}

/**
 * Streams a multipart/form-data body (RFC 7578) and keeps its one part named `file`, refusing as soon
 * as it passes maxBytes. Other text fields (a few, small) are ignored; anything else is a 400 naming it.
 */
function readSingleFile(req: Request, res: Response, maxBytes: number): Promise<UploadedFile> {
  if (!req.is('multipart/form-data')) {
    return Promise.reject(
      new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data in a part named "file"'),
    );
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { ...FORM_LIMITS, files: 1, parts: FORM_LIMITS.fields + 1, fileSize: maxBytes },
      });
    } catch {
      return reject(new AppError('BAD_REQUEST', 'The multipart/form-data body has no boundary'));
    }
    let file: UploadedFile | undefined;
    let settled = false;

    const fail = (error: AppError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      parser.removeAllListeners('file');
      parser.on('error', () => undefined); // it may still complain about the cut-off body
      discardRest(req, res);
      reject(error);
    };
    const onlyFile = (message: string) =>
      fail(validation('The form must carry exactly one file, named "file"', 'file', message));

    parser.on('file', (name, stream, info) => {
      // A body cut off inside a part destroys its stream with an error: unheard, it would crash the process.
      stream.on('error', () =>
        fail(new AppError('BAD_REQUEST', 'The multipart/form-data body is malformed')),
      );
      if (name !== 'file') {
        stream.resume();
        return fail(
          validation(`Unexpected file part "${name}"`, name, 'is not allowed; send the file as "file"'),
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
      });
      stream.on('limit', () =>
        fail(new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${maxBytes} bytes`)),
      );
      stream.on('end', () => {
        if (settled) return;
        file = { filename: info.filename ?? '', mimeType: info.mimeType, data: Buffer.concat(chunks, size) };
      });
    });
    parser.on('filesLimit', () => onlyFile('must be the only file part'));
    parser.on('partsLimit', () => onlyFile('must come with at most a few other fields'));
    parser.on('fieldsLimit', () => onlyFile('must come with at most a few other fields'));
    parser.on('error', () => fail(new AppError('BAD_REQUEST', 'The multipart/form-data body is malformed')));
    parser.on('close', () => {
      if (settled) return;
      if (!file) return onlyFile('is required');
      if (file.data.length === 0) return onlyFile('must not be empty');
      settled = true;
      resolve(file);
    });
    req.on('aborted', () => fail(new AppError('BAD_REQUEST', 'The upload was aborted')));
    req.pipe(parser);
  });
}

/**
 * A client that sent its whole body before reading the answer (most do) would see a reset instead of
 * the 413 if the socket were closed under it. So the rest is read and dropped (never kept), up to a
 * bound; a client still sending past it has its connection closed once the answer has gone out.
 */
function discardRest(req: Request, res: Response): void {
  if (req.complete) return;
  let discarded = 0;
  const cut = () => {
    if (req.complete) return;
    if (res.writableFinished) req.socket.destroy();
    else res.once('finish', () => req.socket.destroy());
  };
  const timer = setTimeout(cut, LINGER.maxMs).unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER.maxBytes) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function validation(message: string, field: string, problem: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { fields: [{ field, message: problem }] });
}

function uuidParam(req: Request, param: string, label: string): string {
  const value = String(req.params[param]);
  if (!UUID.test(value)) throw validation(`${label} is invalid`, param, 'must be a UUID');
  return value;
}

export interface AttachmentMessage {
  id?: string;
  sessionId?: string;
  contentType?: string;
  size?: string | number;
  width?: number;
  height?: number;
  status?: string;
  ocrText?: string;
  ocrConfidence?: number;
  createdAt?: string;
  processedAt?: string;
}

/** One attachment; `ocr_text`, `ocr_confidence` and `processed_at` are null until OCR has run. */
export function presentAttachment(attachment: AttachmentMessage | null | undefined) {
  const processed = attachment?.status === 'processed';
  return {
    id: attachment?.id ?? '',
    session_id: attachment?.sessionId ?? '',
    content_type: attachment?.contentType ?? '',
    size: Number(attachment?.size ?? 0),
    width: attachment?.width ?? 0,
    height: attachment?.height ?? 0,
    status: attachment?.status ?? '',
    ocr_text: processed ? (attachment?.ocrText ?? '') : null,
    ocr_confidence: processed ? (attachment?.ocrConfidence ?? 0) : null,
    created_at: attachment?.createdAt ?? '',
    processed_at: attachment?.processedAt || null,
  };
}
