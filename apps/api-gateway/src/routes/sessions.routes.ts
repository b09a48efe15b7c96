import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError, SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { ContextServiceClient } from '../clients/context-service.client.js';
import { sendData } from '../http/envelope.js';
import { openEventStream, writeEvent } from '../http/server-sent-events.js';
import { validateBody, unicodeText } from '../http/validate.js';
import { validateQuery, validatedQuery } from '../http/validate-query.js';
import { presentConversationMessage, presentConversationSession } from './presenters.js';
import { operation } from '../openapi/operation.js';
import {
  conversationMessageSchema,
  conversationSessionSchema,
  eventStream,
  nextPageToken,
  uuidPath,
} from '../openapi/schemas.js';

// Types and sizes only: context-service applies the rules (title ≤ 200 characters, settings a JSON
// object ≤ 16 KiB, content 1–32,000 characters, attachments of this session) and names every bad
// field. `.strict()`: a body cannot set what the server owns (id, user_id, role, status, created_at…).
const text = unicodeText;
// z.custom keeps the object as sent (a record schema would rebuild it and lose a "__proto__" key).
const settings = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'must be a JSON object' },
);

const sessionBody = z.object({ title: text(1000).optional(), settings: settings.optional() }).strict();

const messageBody = z
  .object({
    content: text(200_000),
    attachment_ids: z.array(z.string().max(64)).max(50).optional(),
    model: z.string().max(200).optional(),
    mode: z.enum(['sync', 'stream', 'async']).optional(),
  })
  .strict();

const pageQuery = z
  .object({
    page_size: z.coerce.number().int().min(1).max(100).optional(),
    page_token: z.string().max(512).optional(),
  })
  .strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * /api/v1/sessions: the caller's conversations (context-service). Every route needs the `explain`
 * scope: conversations are what that scope is for, reading included. Another user's session is a
 * 404, like a missing one. POST answers 201; DELETE answers 204 (no content, hence no envelope).
 * Messages are listed oldest first; sessions newest first; both with opaque `page_token` cursors.
 */
export function sessionRoutes(contexts: ContextServiceClient, requireAuth: RequireAuth): Router {
  const router = Router();
  const auth = requireAuth(SCOPES.explain);

  router.post(
    '/',
    operation({
      tag: 'conversations',
      summary: 'Start a session',
      body: sessionBody,
      responses: {
        201: { description: 'The new session', data: z.object({ session: conversationSessionSchema }) },
      },
    }),
    auth,
    validateBody(sessionBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof sessionBody>;
      const { session } = await contexts.sessions.create({
        ...(input.title !== undefined && { title: input.title }),
        ...(input.settings !== undefined && { settingsJson: JSON.stringify(input.settings) }),
      });
      sendData(res, 201, { session: presentConversationSession(session) });
    },
  );

  router.get(
    '/',
    operation({
      tag: 'conversations',
      summary: 'List your sessions, newest first',
      query: pageQuery,
      responses: {
        200: {
          description: 'One page of sessions',
          data: z.object({ sessions: z.array(conversationSessionSchema), next_page_token: nextPageToken }),
        },
      },
    }),
    auth,
    validateQuery(pageQuery),
    async (_req, res) => {
      const query = validatedQuery(res, pageQuery);
      const page = await contexts.sessions.list({
        pageSize: query.page_size ?? 0,
        pageToken: query.page_token ?? '',
      });
      sendData(res, 200, {
        sessions: (page.sessions ?? []).map(presentConversationSession),
        next_page_token: page.nextPageToken || null,
      });
    },
  );

  router.get(
    '/:id',
    operation({
      tag: 'conversations',
      summary: 'Read a session',
      params: { id: uuidPath },
      responses: {
        200: { description: 'The session', data: z.object({ session: conversationSessionSchema }) },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    auth,
    async (req, res) => {
      const { session } = await contexts.sessions.get(sessionId(req));
      sendData(res, 200, { session: presentConversationSession(session) });
    },
  );

  // PATCH semantics (RFC 5789): only the members present change; `settings` replaces the stored object.
  router.patch(
    '/:id',
    operation({
      tag: 'conversations',
      summary: 'Rename a session or replace its settings',
      params: { id: uuidPath },
      body: sessionBody,
      responses: {
        200: { description: 'The updated session', data: z.object({ session: conversationSessionSchema }) },
      },
      errors: ['NOT_FOUND'],
    }),
    auth,
    validateBody(sessionBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof sessionBody>;
      const { session } = await contexts.sessions.update({
        id: sessionId(req),
        ...(input.title !== undefined && { title: input.title }),
        ...(input.settings !== undefined && { settingsJson: JSON.stringify(input.settings) }),
      });
      sendData(res, 200, { session: presentConversationSession(session) });
    },
  );

  router.delete(
    '/:id',
    operation({
      tag: 'conversations',
      summary: 'Delete a session with its messages',
      params: { id: uuidPath },
      responses: { 204: { description: 'Deleted' } },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    auth,
    async (req, res) => {
      await contexts.sessions.delete(sessionId(req));
      res.status(204).end();
    },
  );

  // sync: 201 with the user's message and the assistant's reply. async: 202 with the user's message
  // and the pending reply (its id is the job id); Location names the messages list where the reply
  // turns "completed" or "failed". stream: 200 text/event-stream (see streamReply below).
  router.post(
    '/:id/messages',
    operation({
      tag: 'conversations',
      summary: 'Ask a question in a session',
      description:
        '`mode` `sync` (default): 201 with the message and the reply. `async`: 202 with the pending reply ' +
        '(`Location` names the messages list). `stream`: 200 `text/event-stream` — `event: message` (the ' +
        'stored user message), `event: delta` (`{ text }`) as the model writes, `event: reply` (the stored ' +
        'reply), or `event: error` (`{ code, message, fields? }`) and the end. Refusals before the first ' +
        'event are ordinary envelope answers.',
      params: { id: uuidPath },
      body: messageBody,
      responses: {
        200: {
          description: '`mode: "stream"`: Server-Sent Events',
          content: { 'text/event-stream': eventStream },
        },
        201: {
          description: 'The message and its reply (`mode: "sync"`)',
          data: z.object({ message: conversationMessageSchema, reply: conversationMessageSchema }),
        },
        202: {
          description: 'The message and the pending reply (`mode: "async"`)',
          headers: { Location: 'The messages list, where the reply turns "completed" or "failed"' },
          data: z.object({
            message: conversationMessageSchema,
            reply: conversationMessageSchema,
            reply_id: z.string(),
          }),
        },
      },
      errors: ['NOT_FOUND', 'PRECONDITION_FAILED'],
    }),
    auth,
    validateBody(messageBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof messageBody>;
      const id = sessionId(req);
      const request = {
        sessionId: id,
        content: input.content,
        attachmentIds: input.attachment_ids ?? [],
        model: input.model ?? '',
        mode: input.mode ?? 'sync',
      };
      if (request.mode === 'stream') return streamReply(res, contexts, request);
      const { message, reply } = await contexts.messages.post(request);
      const body = { message: presentConversationMessage(message), reply: presentConversationMessage(reply) };
      if (reply?.status === 'pending') {
        res.location(`/api/v1/sessions/${id}/messages`);
        return sendData(res, 202, { ...body, reply_id: reply.id });
      }
      sendData(res, 201, body);
    },
  );

  router.get(
    '/:id/messages',
    operation({
      tag: 'conversations',
      summary: 'List the messages of a session, oldest first',
      params: { id: uuidPath },
      query: pageQuery,
      responses: {
        200: {
          description: 'One page of messages',
          data: z.object({ messages: z.array(conversationMessageSchema), next_page_token: nextPageToken }),
        },
      },
      errors: ['NOT_FOUND'],
    }),
    auth,
    validateQuery(pageQuery),
    async (req, res) => {
      const query = validatedQuery(res, pageQuery);
      const page = await contexts.messages.list({
        sessionId: sessionId(req),
        pageSize: query.page_size ?? 0,
        pageToken: query.page_token ?? '',
      });
      sendData(res, 200, {
        messages: (page.messages ?? []).map(presentConversationMessage),
        next_page_token: page.nextPageToken || null,
      });
    },
  );

  return router;
}

function sessionId(req: Request): string {
  const id = String(req.params['id']);
  if (!UUID.test(id))
    throw new AppError('VALIDATION_FAILED', 'Session id is invalid', {
      fields: [{ field: 'id', message: 'must be a UUID' }],
    });
  return id;
}

type PostMessageRequest = Parameters<ContextServiceClient['messages']['postStream']>[0];

/**
 * mode "stream": Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html)
 * relaying context-service's PostMessageStream: `message` (the stored user message), `delta`
 * ({text}, as the model writes), `reply` (the stored assistant message), then the response ends; a
 * failure after the first event is an `error` event ({code, message, fields?}: the envelope's error
 * shape) and the end. Until the first event arrives nothing is sent, so a refusal (400, 404, 429 …) is
 * a normal envelope response from the error handler. The client going away aborts the gRPC call, which
 * cancels inference upstream. Each event is written as it comes (no buffering: X-Accel-Buffering tells
 * nginx-style proxies so) and a slow reader holds the stream back instead of filling memory.
 */
async function streamReply(res: Response, contexts: ContextServiceClient, request: PostMessageRequest) {
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const events = contexts.messages.postStream(request, gone.signal)[Symbol.asyncIterator]();
  let next = await events.next(); // throws to the error handler: nothing has been sent yet
  openEventStream(res);
  try {
    for (; !next.done; next = await events.next()) {
      const event = next.value;
      if (event.userMessage) await sendEvent(res, 'message', presentConversationMessage(event.userMessage));
      else if (event.delta) await sendEvent(res, 'delta', { text: event.delta.text });
      else if (event.reply) await sendEvent(res, 'reply', presentConversationMessage(event.reply));
      if (gone.signal.aborted) return;
    }
  } catch (error) {
    if (gone.signal.aborted) return;
    const appError = AppError.from(error);
    await sendEvent(res, 'error', {
      code: appError.code,
      message: appError.message,
      ...(appError.fields && { fields: appError.fields }),
    });
  } finally {
    if (!gone.signal.aborted) await events.return?.();
    res.end();
  }
}

/** One SSE event; resolves once the socket took it (or the client is gone). */
function sendEvent(res: Response, event: string, data: unknown): Promise<void> {
  // JSON.stringify escapes line breaks, so the data is one `data:` line.
  return writeEvent(res, event, JSON.stringify(data));
}
