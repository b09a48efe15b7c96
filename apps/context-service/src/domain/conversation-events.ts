import { createEvent, type EventEnvelope } from '@te/events';
import type { Message, Session } from './conversation.js';

/**
 * Events context-service publishes (contract: docs/events.md). They carry ids, roles and sizes, never
 * what the user wrote (message content, session titles): events live on in queues, dead-letter queues
 * and consumers' logs beyond the reach of `user.deleted`, and a consumer that needs the text asks the
 * API, which answers only while the data exists and only to its owner.
 */
export const CONTEXT_SESSION_CREATED = 'context.session.created';
export const CONTEXT_SESSION_DELETED = 'context.session.deleted';
export const CONTEXT_MESSAGE_CREATED = 'context.message.created';

export interface SessionCreatedData {
  session_id: string;
  user_id: string;
  created_at: string;
}

export interface SessionDeletedData {
  session_id: string;
  user_id: string;
  /** `user_request`: DELETE by its owner; `retention`: idle past SESSION_RETENTION_DAYS. */
  reason: 'user_request' | 'retention';
  deleted_at: string;
}

export interface MessageCreatedData {
  message_id: string;
  session_id: string;
  user_id: string;
  role: Message['role'];
  mode: Message['mode'];
  /** Empty when routing chooses. */
  model: string;
  /** In Unicode code points. */
  content_length: number;
  attachment_ids: string[];
  created_at: string;
}

export function sessionCreatedEvent(session: Session, source: string): EventEnvelope<SessionCreatedData> {
  return createEvent({
    type: CONTEXT_SESSION_CREATED,
    source,
    subject: session.id,
    data: { session_id: session.id, user_id: session.userId, created_at: session.createdAt.toISOString() },
  });
}

export function sessionDeletedEvent(
  session: Session,
  reason: SessionDeletedData['reason'],
  source: string,
): EventEnvelope<SessionDeletedData> {
  return createEvent({
    type: CONTEXT_SESSION_DELETED,
    source,
    subject: session.id,
    data: {
      session_id: session.id,
      user_id: session.userId,
      reason,
      deleted_at: new Date().toISOString(),
    },
  });
}

export function messageCreatedEvent(message: Message, source: string): EventEnvelope<MessageCreatedData> {
  return createEvent({
    type: CONTEXT_MESSAGE_CREATED,
    source,
    subject: message.sessionId,
    data: {
      message_id: message.id,
      session_id: message.sessionId,
      user_id: message.userId,
      role: message.role,
      mode: message.mode,
      model: message.model,
      content_length: [...message.content].length,
      attachment_ids: message.attachmentIds,
      created_at: message.createdAt.toISOString(),
    },
  });
}

/**
 * An async reply job (a work item on context-service's own queue context-service.replies, written
 * through the outbox with the user's message). Ids only.
 */
export const CONTEXT_REPLY_REQUESTED = 'context.reply.requested';

export interface ReplyRequestedData {
  /** The pending assistant message the job completes (the job id the client was given). */
  reply_id: string;
  /** The user message it answers. */
  message_id: string;
  session_id: string;
  user_id: string;
  requested_at: string;
}

export function replyRequestedEvent(reply: Message, source: string): EventEnvelope<ReplyRequestedData> {
  return createEvent({
    type: CONTEXT_REPLY_REQUESTED,
    source,
    subject: reply.sessionId,
    data: {
      reply_id: reply.id,
      message_id: reply.replyTo ?? '',
      session_id: reply.sessionId,
      user_id: reply.userId,
      requested_at: reply.createdAt.toISOString(),
    },
  });
}
