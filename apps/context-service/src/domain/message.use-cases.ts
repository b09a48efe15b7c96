import { AppError, type FieldError } from '@te/platform';
import type { Message, MessageMode, Page, ReplyContent } from './conversation.js';
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
    /** The same reply as it is generated: deltas, then the completed reply last. */
    stream(question: Message, signal?: AbortSignal): AsyncIterable<ReplyStreamStep>;
    /** False only when the catalogue was read and does not list it; true when it could not be read. */
    mayUse(userId: string, model: string): Promise<boolean>;
  };
}

/** One step of a streamed reply (what routing yields). */
export type ReplyStreamStep = { kind: 'delta'; text: string } | { kind: 'completed'; reply: ReplyContent };

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

/** What PostMessageStream sends, in order: the stored question, the reply's text, the stored reply. */
export type MessageStreamEvent =
  | { kind: 'user_message'; message: Message }
  | { kind: 'delta'; text: string }
  | { kind: 'reply'; message: Message };

/**
 * Stores the user's message (with `context.message.created`) and answers it through request routing.
 * sync: the reply is generated now and stored; when that fails the user's message stays stored and the
 * error (UNAVAILABLE, RATE_LIMITED, DEADLINE_EXCEEDED, VALIDATION_FAILED on `model`) goes back as is.
 * async: a pending reply and its job (`context.reply.requested`) are written in the same transaction,
 * answered later by the reply worker. stream: VALIDATION_FAILED naming `mode` (PostMessageStream is
 * the streaming call); nothing is stored.
 */
export async function postMessage(
  userId: string,
  input: PostMessageInput,
  deps: MessageDeps,
): Promise<PostedMessage> {
  const stored = await storeQuestion(userId, input, ['sync', 'async'], deps);
  const { message } = stored;
  if (stored.reply) return { message, reply: stored.reply };
  const content = await deps.replies.generate(message);
  return { message, reply: await saveReply(message, content, deps) };
}

/**
 * PostMessage in stream mode: the user's message is stored and yielded first, the reply's deltas as
 * routing relays them, then the stored reply (same columns and event as sync). A failure after the
 * first event leaves the user's message stored and no reply, as in sync mode; aborting `signal` (the
 * caller went away) cancels the upstream inference.
 */
export async function* postMessageStream(
  userId: string,
  input: PostMessageInput,
  deps: MessageDeps,
  signal?: AbortSignal,
): AsyncGenerator<MessageStreamEvent, void, undefined> {
  const { message } = await storeQuestion(
    userId,
    { ...input, mode: input.mode || 'stream' },
    ['stream'],
    deps,
  );
  yield { kind: 'user_message', message };
  for await (const step of deps.replies.stream(message, signal)) {
    if (step.kind === 'delta') {
      yield { kind: 'delta', text: step.text };
      continue;
    }
    yield { kind: 'reply', message: await saveReply(message, step.reply, deps) };
    return;
  }
  throw new AppError('UNAVAILABLE', 'The reply ended without completing');
}

async function saveReply(question: Message, content: ReplyContent, deps: MessageDeps): Promise<Message> {
  const reply = await deps.messages.saveReply(question, content, (saved) => [
    messageCreatedEvent(saved, deps.source),
  ]);
  await deps.states.refresh(question.sessionId);
  return reply;
}

/** Validates, checks a named model, and stores the question (with a pending reply in async mode). */
async function storeQuestion(
  userId: string,
  input: PostMessageInput,
  allowed: MessageMode[],
  deps: MessageDeps,
): Promise<{ message: Message; reply?: Message }> {
  const mode = parseMode(input.mode);
  const problems = [
    ...idProblems(input.sessionId, 'session_id'),
    ...contentProblems(input.content),
    ...mode.problems,
    ...(mode.mode && !allowed.includes(mode.mode) ? [wrongCall(mode.mode)] : []),
    ...modelProblems(input.model),
    ...attachmentIdsProblems(input.attachmentIds),
  ];
  if (problems.length || !mode.mode)
    throw new AppError('VALIDATION_FAILED', 'Invalid message', { fields: problems });
  // A model the catalogue does not list is refused before anything is stored.
  if (input.model && !(await deps.replies.mayUse(userId, input.model)))
    throw new AppError('VALIDATION_FAILED', 'Invalid message', {
      fields: [{ field: 'model', message: 'is not a model you may use' }],
    });

  const outcome = await deps.messages.post(
    {
      userId,
      sessionId: input.sessionId.toLowerCase(),
      content: input.content,
      model: input.model,
      mode: mode.mode,
      attachmentIds: input.attachmentIds.map((id) => id.toLowerCase()),
      withPendingReply: mode.mode === 'async',
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
  await deps.states.refresh(outcome.message.sessionId);
  return { message: outcome.message, ...(outcome.reply && { reply: outcome.reply }) };
}

function wrongCall(mode: MessageMode): FieldError {
  return mode === 'stream'
    ? { field: 'mode', message: 'stream replies come through PostMessageStream' }
    : { field: 'mode', message: 'must be empty or stream in PostMessageStream' };
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
