import type { SubscribeOptions } from '@te/events';
import { AppError, runWithRequestContext, scopesForRoles, type Logger } from '@te/platform';
import type { Message, ReplyContent } from '../domain/conversation.js';
import {
  CONTEXT_REPLY_REQUESTED,
  messageCreatedEvent,
  type ReplyRequestedData,
} from '../domain/conversation-events.js';
import type { MessageStore, SessionStates } from '../domain/ports.js';

/** The async reply work queue: every replica (or the worker deployment) competes for its jobs. */
export const CONTEXT_REPLIES_QUEUE = 'context-service.replies';

/** The async-reply work queue, declared by every context-service process and consumed by workers. */
export const REPLY_WORK_QUEUE = { queue: CONTEXT_REPLIES_QUEUE, bindings: [CONTEXT_REPLY_REQUESTED] };

// Worth another delivery: the AI gateway may be back, the limit lifted, the provider faster.
const TRANSIENT = new Set(['UNAVAILABLE', 'RATE_LIMITED', 'DEADLINE_EXCEEDED', 'INTERNAL']);

/**
 * `context.reply.requested` → the pending reply is generated and completed, with
 * `context.message.created`. Idempotent by reply id: a job whose reply is no longer pending (done by
 * an earlier delivery, or its session deleted) does nothing, and Infer's request_id (the question's
 * id) makes a concurrent duplicate cost one inference. A permanent failure marks the reply failed with
 * its error code; a transient one is retried by the bus until REPLY_GIVE_UP_MS after the request,
 * then marked failed too.
 */
export function replySubscription(deps: {
  messages: MessageStore;
  states: SessionStates;
  generate: (question: Message) => Promise<ReplyContent>;
  giveUpMs: number;
  retryDelaysMs?: number[];
  source: string;
  logger: Logger;
}): SubscribeOptions<ReplyRequestedData> {
  const settle = async (reply: Message, outcome: { reply: ReplyContent } | { errorCode: string }) => {
    const settled = await deps.messages.settleReply(reply.id, outcome, (message) =>
      message.status === 'completed' ? [messageCreatedEvent(message, deps.source)] : [],
    );
    if (settled) await deps.states.refresh(settled.sessionId);
  };
  return {
    ...REPLY_WORK_QUEUE,
    prefetch: 8,
    ...(deps.retryDelaysMs && { retryDelaysMs: deps.retryDelaysMs }),
    handler: async (event) => {
      const replyId = event.data?.reply_id;
      if (typeof replyId !== 'string') throw new AppError('VALIDATION_FAILED', 'reply_id missing');
      const reply = await deps.messages.find(replyId);
      if (!reply || reply.status !== 'pending' || !reply.replyTo) {
        deps.logger.info('reply job skipped: reply settled or gone', {
          reply_id: replyId,
          event_id: event.id,
        });
        return;
      }
      const question = await deps.messages.find(reply.replyTo);
      if (!question) return;
      // The AI gateway acts for the message's owner: the client interceptor sends this principal.
      const principal = { userId: question.userId, roles: ['user'], scopes: scopesForRoles(['user']) };
      try {
        const content = await runWithRequestContext({ requestId: event.id, principal }, () =>
          deps.generate(question),
        );
        await settle(reply, { reply: content });
      } catch (error) {
        const code = error instanceof AppError ? error.code : 'INTERNAL';
        const age = Date.now() - reply.createdAt.getTime();
        if (TRANSIENT.has(code) && age < deps.giveUpMs) throw error;
        deps.logger.warn('async reply failed', { reply_id: reply.id, error_code: code });
        await settle(reply, { errorCode: code });
      }
    },
  };
}
