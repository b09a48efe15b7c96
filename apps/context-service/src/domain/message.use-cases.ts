import { AppError } from '@te/platform';
import type { Message, Page, ReplyContent } from './conversation.js';
import { messageCreatedEvent, replyRequestedEvent } from './conversation-events.js';
import {
  attachmentIdsProblems,
  contentProblems,
  idProblems,
  modelProblems,
  parseMode,
} from './conversation.policy.js';
import { readPageRequest, toPage } from './page-request.js';
import type { MessageStore, SessionStates } from './ports.js';
import { notFound, requireId } from './session.use-cases.js';

export const DEFAULT_MESSAGES_PAGE_SIZE = 50;

export interface MessageDeps {
  messages: MessageStore;
  states: SessionStates;
  source: string;
  /** Request routing (src/routing): the reply to a stored question, and whether a named model exists. */
  replies: {
    generate(question: Message): Promise<ReplyContent>;
    /** False only when the catalogue was read and does not list it; true when it could not be read. */
    mayUse(userId: string, model: string): Promise<boolean>;
  };
}

export interface PostedMessage {
  message: Message;
  /** sync: the completed reply; async: the pending one (its id is the job id). */
  reply: Message;
}

export interface PostMessageInput {
  sessionId: string;
  content: string;
  attachmentIds: string[];
  model: string;
  mode: string;
}

/**
 * Stores the user's message (with `context.message.created`) and answers it through request routing.
 * sync: the reply is generated now and stored; when that fails the user's message stays stored and the
 * error (UNAVAILABLE, RATE_LIMITED, DEADLINE_EXCEEDED, VALIDATION_FAILED on `model`) goes back as is.
 * async: a pending reply and its job (`context.reply.requested`) are written in the same transaction,
 * answered later by the reply worker. stream: PRECONDITION_FAILED until the streaming transport lands.
 */
export async function postMessage(
  userId: string,
  input: PostMessageInput,
  deps: MessageDeps,
): Promise<PostedMessage> {
  const mode = parseMode(input.mode);
  const problems = [
    ...idProblems(input.sessionId, 'session_id'),
    ...contentProblems(input.content),
    ...mode.problems,
    ...modelProblems(input.model),
    ...attachmentIdsProblems(input.attachmentIds),
  ];
  if (problems.length || !mode.mode)
    throw new AppError('VALIDATION_FAILED', 'Invalid message', { fields: problems });
  if (mode.mode === 'stream')
    throw new AppError(
      'PRECONDITION_FAILED',
      'Streaming replies come with the streaming transport; use sync or async',
    );
  // A model the catalogue does not list is refused before anything is stored.
  if (input.model && !(await deps.replies.mayUse(userId, input.model)))
    throw new AppError('VALIDATION_FAILED', 'Invalid message', {
      fields: [{ field: 'model', message: 'is not a model you may use' }],
    });

  const async = mode.mode === 'async';
  const outcome = await deps.messages.post(
    {
      userId,
      sessionId: input.sessionId.toLowerCase(),
      content: input.content,
      model: input.model,
      mode: mode.mode,
      attachmentIds: input.attachmentIds.map((id) => id.toLowerCase()),
      withPendingReply: async,
    },
    (message, reply) => [
      messageCreatedEvent(message, deps.source),
      ...(reply ? [replyRequestedEvent(reply, deps.source)] : []),
    ],
  );
  if (outcome.kind === 'session_not_found') throw notFound();
  if (outcome.kind === 'unknown_attachments') {
    throw new AppError('VALIDATION_FAILED', 'Invalid message', {
      fields: outcome.indexes.map((index) => ({
        field: `attachment_ids[${index}]`,
        message: 'is not an attachment of this session',
      })),
    });
  }
  const { message } = outcome;
  await deps.states.refresh(message.sessionId);
  if (outcome.reply) return { message, reply: outcome.reply };

  const content = await deps.replies.generate(message);
  const reply = await deps.messages.saveReply(message, content, (saved) => [
    messageCreatedEvent(saved, deps.source),
  ]);
  await deps.states.refresh(message.sessionId);
  return { message, reply };
}

/** Messages of one of the user's sessions, oldest first by (created_at, id). */
export async function listMessages(
  userId: string,
  request: { sessionId: string; pageSize: number; pageToken: string },
  deps: Pick<MessageDeps, 'messages'>,
): Promise<Page<Message>> {
  requireId(request.sessionId, 'session_id');
  const { limit, after } = readPageRequest(request, DEFAULT_MESSAGES_PAGE_SIZE);
  const rows = await deps.messages.list(userId, request.sessionId.toLowerCase(), { limit: limit + 1, after });
  if (!rows) throw notFound();
  return toPage(rows, limit);
}
