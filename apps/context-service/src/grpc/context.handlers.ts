import type { AsyncHandlers, teContextV1 } from '@te/grpc';
import {
  getAttachment,
  openAttachmentContent,
  uploadAttachment,
  type AttachmentLimits,
  type AttachmentStore,
} from '../domain/attachment.use-cases.js';
import {
  listMessages,
  postMessage,
  postMessageStream,
  type MessageDeps,
} from '../domain/message.use-cases.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { MessageStore, ReleaseObjects, SessionStates, SessionStore } from '../domain/ports.js';
import {
  createSession,
  deleteSession,
  getSession,
  listSessions,
  updateSession,
} from '../domain/session.use-cases.js';
import { callerId } from './caller.js';
import { attachmentMessage, messageMessage, sessionMessage } from './messages.js';

export interface ContextHandlerDeps {
  sessions: SessionStore;
  messages: MessageStore;
  states: SessionStates;
  attachments: AttachmentStore;
  storage: ObjectStorage;
  /** Removes stored objects no attachment references any more, after DeleteSession. */
  releaseObjects?: ReleaseObjects;
  attachmentLimits: AttachmentLimits;
  /** Request routing: answers to users' messages. */
  replies: MessageDeps['replies'];
  /** `source` of the events this service publishes (its name). */
  source: string;
}

/** te.context.v1.ContextService: thin translation between the contract and the use cases. */
export function contextHandlers(deps: ContextHandlerDeps): AsyncHandlers<teContextV1.ContextServiceHandlers> {
  return {
    async CreateSession(request, ctx) {
      const session = await createSession(
        callerId(ctx),
        { title: request.title, settingsJson: request.settingsJson },
        deps,
      );
      return { session: sessionMessage(session) };
    },

    async ListSessions(request, ctx) {
      const page = await listSessions(
        callerId(ctx),
        { pageSize: request.pageSize, pageToken: request.pageToken },
        deps,
      );
      return { sessions: page.items.map(sessionMessage), nextPageToken: page.nextPageToken };
    },

    async GetSession(request, ctx) {
      return { session: sessionMessage(await getSession(callerId(ctx), request.id, deps)) };
    },

    async UpdateSession(request, ctx) {
      const session = await updateSession(
        callerId(ctx),
        request.id,
        { title: request.title, settingsJson: request.settingsJson },
        deps,
      );
      return { session: sessionMessage(session) };
    },

    async DeleteSession(request, ctx) {
      await deleteSession(callerId(ctx), request.id, deps);
      return {};
    },

    async PostMessage(request, ctx) {
      const { message, reply } = await postMessage(
        callerId(ctx),
        {
          sessionId: request.sessionId,
          content: request.content,
          attachmentIds: request.attachmentIds,
          model: request.model,
          mode: request.mode,
        },
        deps,
      );
      return { message: messageMessage(message), reply: messageMessage(reply) };
    },

    // Server streaming: ctx.signal aborts when the caller cancels or the deadline passes, and cancels
    // the upstream InferStream with it.
    async *PostMessageStream(request, ctx) {
      const events = postMessageStream(
        callerId(ctx),
        {
          sessionId: request.sessionId,
          content: request.content,
          attachmentIds: request.attachmentIds,
          model: request.model,
          mode: request.mode,
        },
        deps,
        ctx.signal,
      );
      for await (const event of events) {
        if (event.kind === 'user_message') yield { userMessage: messageMessage(event.message) };
        else if (event.kind === 'delta') yield { delta: { text: event.text } };
        else yield { reply: messageMessage(event.message) };
      }
    },

    async ListMessages(request, ctx) {
      const page = await listMessages(
        callerId(ctx),
        { sessionId: request.sessionId, pageSize: request.pageSize, pageToken: request.pageToken },
        deps,
      );
      return { messages: page.items.map(messageMessage), nextPageToken: page.nextPageToken };
    },

    async UploadAttachment(request, ctx) {
      const attachment = await uploadAttachment(
        callerId(ctx),
        { sessionId: request.sessionId, data: request.data },
        { ...deps, limits: deps.attachmentLimits },
      );
      return { attachment: attachmentMessage(attachment) };
    },

    async GetAttachment(request, ctx) {
      const attachment = await getAttachment(
        callerId(ctx),
        { sessionId: request.sessionId, attachmentId: request.attachmentId },
        deps,
      );
      return { attachment: attachmentMessage(attachment) };
    },

    // Server streaming: the refusal (NOT_FOUND, …) is thrown before the first chunk; cancelling the
    // call closes the generator, whose `finally` closes the storage stream.
    async *GetAttachmentContent(request, ctx) {
      const { attachment, chunks } = await openAttachmentContent(
        callerId(ctx),
        { sessionId: request.sessionId, attachmentId: request.attachmentId },
        deps,
        ctx.signal,
      );
      let totalSize: number | undefined = attachment.sizeBytes;
      try {
        for await (const data of chunks) {
          yield { data, totalSize: totalSize ?? 0 };
          totalSize = undefined;
        }
        if (totalSize !== undefined) yield { data: Buffer.alloc(0), totalSize }; // an empty object
      } finally {
        await chunks.return();
      }
    },
  };
}
