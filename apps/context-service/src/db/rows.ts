import type { AttachmentSummary, Message, Session } from '../domain/conversation.js';
import type { AttachmentModel, MessageModel, SessionModel } from './generated/prisma/models.js';

/** Row → plain domain object (repositories never hand Prisma types outward). */
export function toSession(row: SessionModel): Session {
  return {
    id: row.id,
    userId: row.userId,
    title: row.title,
    settings: isObject(row.settings) ? row.settings : {},
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastActivityAt: row.lastActivityAt,
  };
}

export function toMessage(row: MessageModel): Message {
  return {
    id: row.id,
    sessionId: row.sessionId,
    userId: row.userId,
    role: row.role,
    content: row.content,
    model: row.model,
    mode: row.mode,
    attachmentIds: row.attachmentIds,
    status: row.status,
    createdAt: row.createdAt,
    replyTo: row.replyToId,
    errorCode: row.errorCode,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    costUsd: row.costUsd,
  };
}

export function toAttachmentSummary(
  row: Pick<AttachmentModel, 'id' | 'contentType' | 'status' | 'width' | 'height' | 'ocrText' | 'createdAt'>,
): AttachmentSummary {
  return {
    id: row.id,
    contentType: row.contentType,
    status: row.status,
    width: row.width,
    height: row.height,
    ocrTextLength: row.ocrText ? [...row.ocrText].length : 0,
    createdAt: row.createdAt,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
