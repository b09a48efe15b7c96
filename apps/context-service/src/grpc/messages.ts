import type { teContextV1 } from '@te/grpc';
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
  };
}
