import type { teAiV1 } from '@te/grpc';
import { AppError, type Logger } from '@te/platform';
import type { AiGateway } from '../clients/ai-gateway.client.js';
import type { Attachment } from '../domain/attachment.js';
import type { Message, ReplyContent } from '../domain/conversation.js';
import type { MessageStore } from '../domain/ports.js';
import { readBounded } from '../storage/byte-limit.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { assembleContext, type ContextAttachment, type Turn } from './context-window.js';
import type { CachedCatalogue, CatalogueModel } from './model-catalogue.js';
import { routeMessage, unknownModel } from './route-message.js';
import type { RoutingRule } from './routing-rules.js';

export interface ReplyGeneratorDeps {
  ai: AiGateway;
  catalogue: CachedCatalogue;
  rules: RoutingRule[];
  messages: Pick<MessageStore, 'history'>;
  attachments: { find(id: string): Promise<Attachment | undefined> };
  storage: ObjectStorage;
  logger: Logger;
  settings: { systemPrompt: string; maxOcrChars: number; historyMessages: number; maxImageBytes: number };
}

/** One step of a streamed reply: text as it is generated, then the completed reply (last). */
export type ReplyStreamEvent = { kind: 'delta'; text: string } | { kind: 'completed'; reply: ReplyContent };

/**
 * The assistant's answer to a stored user message: route it (rules × catalogue), assemble its context
 * within the model's budget, call Infer with the message id as request_id (a retry is answered once
 * and billed once). Must run in a request context whose principal is the message's owner.
 */
export async function generateReply(question: Message, deps: ReplyGeneratorDeps): Promise<ReplyContent> {
  const { request, model } = await prepareInference(question, deps);
  const response = await deps.ai.infer(request).catch((error: unknown) => {
    throw inferenceError(error);
  });
  return replyContent(response, model.name);
}

/**
 * The same answer, streamed: routed and assembled exactly like generateReply, then InferStream; its
 * deltas are relayed as they arrive and the reply's content is their concatenation. A model the
 * catalogue says cannot stream is asked through Infer and its answer relayed as one delta. Aborting
 * `signal` cancels the upstream call.
 */
export async function* streamReply(
  question: Message,
  deps: ReplyGeneratorDeps,
  signal?: AbortSignal,
): AsyncGenerator<ReplyStreamEvent, void, undefined> {
  const { request, model } = await prepareInference(question, deps);
  if (!model.streaming) {
    const response = await deps.ai.infer(request).catch((error: unknown) => {
      throw inferenceError(error);
    });
    if (response.text) yield { kind: 'delta', text: response.text };
    yield { kind: 'completed', reply: replyContent(response, model.name) };
    return;
  }
  const parts: string[] = [];
  try {
    for await (const event of deps.ai.inferStream(request, signal)) {
      if (event.delta) {
        if (!event.delta.text) continue;
        parts.push(event.delta.text);
        yield { kind: 'delta', text: event.delta.text };
      } else if (event.completed) {
        // The deltas are what the caller saw; a provider that sent the text only at the end still counts.
        const text = parts.length ? parts.join('') : event.completed.text;
        if (!parts.length && text) yield { kind: 'delta', text };
        yield { kind: 'completed', reply: { ...replyContent(event.completed, model.name), content: text } };
        return;
      }
    }
  } catch (error) {
    throw inferenceError(error);
  }
  throw new AppError('UNAVAILABLE', 'The AI gateway ended the stream without completing the answer');
}

/** Routing and the context window: the InferRequest for a question, and the model chosen. */
async function prepareInference(
  question: Message,
  deps: ReplyGeneratorDeps,
): Promise<{ request: teAiV1.InferRequest; model: CatalogueModel }> {
  const catalogue = await deps.catalogue.get(question.userId);
  const decision = routeMessage(
    { hasImages: question.attachmentIds.length > 0, mode: question.mode, requestedModel: question.model },
    deps.rules,
    catalogue,
  );
  const attachments = await Promise.all(
    question.attachmentIds.map((id) => contextAttachment(id, decision.images === 'image', deps)),
  );
  const history = await deps.messages.history(question.sessionId, question, deps.settings.historyMessages);
  const window = assembleContext({
    systemPrompt: deps.settings.systemPrompt,
    question: question.content,
    attachments,
    images: decision.images,
    history: history.flatMap(asTurn),
    model: decision.model,
    maxOcrChars: deps.settings.maxOcrChars,
  });
  deps.logger.info('message routed', {
    message_id: question.id,
    rule: decision.rule,
    model: decision.model.name,
    mode: question.mode,
    images: decision.images,
    estimated_tokens: window.estimatedTokens,
    budget_tokens: window.budget,
    kept_turns: window.keptTurns,
    dropped_turns: window.droppedTurns,
  });
  return {
    model: decision.model,
    request: {
      requestId: question.id,
      model: decision.model.name,
      messages: window.messages,
      maxOutputTokens: decision.model.maxOutputTokens,
      metadata: { session_id: question.sessionId, message_id: question.id },
    },
  };
}

function replyContent(response: teAiV1.InferResponse__Output, modelName: string): ReplyContent {
  return {
    content: response.text,
    model: response.modelVersion || modelName,
    inputTokens: response.usage?.inputTokens ?? 0,
    outputTokens: response.usage?.outputTokens ?? 0,
    costUsd: response.usage?.costUsd ?? '',
  };
}

/**
 * What the caller sees of an AI gateway failure: UNAVAILABLE (503), RATE_LIMITED (429, with its
 * retry-after) and DEADLINE_EXCEEDED (504) as they are; NOT_FOUND (the model went away) as a bad
 * `model`; anything else is our request's fault, not the user's: INTERNAL.
 */
export function inferenceError(error: unknown): AppError {
  if (!(error instanceof AppError)) return AppError.from(error);
  if (['UNAVAILABLE', 'RATE_LIMITED', 'DEADLINE_EXCEEDED', 'UNAUTHENTICATED'].includes(error.code))
    return error;
  if (error.code === 'NOT_FOUND') return unknownModel();
  if (error.code === 'VALIDATION_FAILED' && error.fields?.some((field) => field.field === 'model'))
    return unknownModel();
  return new AppError('INTERNAL', 'The AI gateway refused the request', { cause: error });
}

/** Replies that failed or are still pending are not part of the conversation the model sees. */
function asTurn(message: Message): Turn[] {
  if (message.role === 'user') return [{ role: 'user', content: message.content }];
  if (message.role === 'assistant' && message.status === 'completed' && message.content)
    return [{ role: 'assistant', content: message.content }];
  return [];
}

async function contextAttachment(
  id: string,
  withImage: boolean,
  deps: ReplyGeneratorDeps,
): Promise<ContextAttachment> {
  const attachment = await deps.attachments.find(id);
  if (!attachment) return { ocrText: '' };
  const ocrText = attachment.status === 'processed' ? (attachment.ocrText ?? '') : '';
  if (!withImage) return { ocrText };
  const data = await readBounded(await deps.storage.get(attachment.objectKey), deps.settings.maxImageBytes);
  return { ocrText, image: { mediaType: attachment.contentType, data } };
}
