import type { teContextV1 } from '@te/grpc';
import type { Attachment } from '../domain/attachment.js';
import type { Message, Session } from '../domain/conversation.js';

/** The wire form of a session (never its owner's id: the caller is the owner). */
export function sessionMessage(session: Session): teContextV1.Session {
  return {
    id: session.id,
    title: session.title,
    settingsJson: JSON.stringify(session.settings),
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
    lastActivityAt: session.lastActivityAt.toISOString(),
  };
}

export function messageMessage(message: Message): teContextV1.Message {
  return {
    id: message.id,
    sessionId: message.sessionId,
    role: message.role,
    content: message.content,
    model: message.model,
    mode: message.mode,
    attachmentIds: message.attachmentIds,
    status: message.status,
    createdAt: message.createdAt.toISOString(),
    replyTo: message.replyTo ?? '',
    errorCode: message.errorCode ?? '',
    inputTokens: message.inputTokens ?? 0,
    outputTokens: message.outputTokens ?? 0,
    costUsd: message.costUsd ?? '',
  };
}

/** The wire form of an attachment (never its object key or owner: storage is the service's business). */
export function attachmentMessage(attachment: Attachment): teContextV1.Attachment {
  return {
    id: attachment.id,
    sessionId: attachment.sessionId,
    contentType: attachment.contentType,
    size: attachment.sizeBytes,
    width: attachment.width ?? 0,
    height: attachment.height ?? 0,
    status: attachment.status,
    ocrText: attachment.ocrText ?? '',
    ocrConfidence: attachment.ocrConfidence ?? 0,
    createdAt: attachment.createdAt.toISOString(),
    processedAt: attachment.processedAt?.toISOString() ?? '',
  };
}
