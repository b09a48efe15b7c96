import { AppError } from '@te/platform';
import type { Message, Page } from './conversation.js';
import { messageCreatedEvent } from './conversation-events.js';
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
}

export interface PostMessageInput {
  sessionId: string;
  content: string;
  attachmentIds: string[];
  model: string;
  mode: string;
}

/**
 * Stores the user's message and writes `context.message.created` in the same transaction. Producing
 * the assistant's reply is request routing's job (issue 4, "Routing"); until it lands the stored
 * message is the answer.
 */
export async function postMessage(
  userId: string,
  input: PostMessageInput,
  deps: MessageDeps,
): Promise<Message> {
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

  const outcome = await deps.messages.post(
    {
      userId,
      sessionId: input.sessionId.toLowerCase(),
      content: input.content,
      model: input.model,
      mode: mode.mode,
      attachmentIds: input.attachmentIds.map((id) => id.toLowerCase()),
    },
    (message) => [messageCreatedEvent(message, deps.source)],
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
  await deps.states.refresh(outcome.message.sessionId);
  return outcome.message;
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
