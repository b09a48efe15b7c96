import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { AppError, SCOPES, type Logger } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { AiGatewayClient } from '../clients/ai-gateway.client.js';
import {
  invalidParam,
  logFailure,
  openAiErrorHandler,
  openAiNotFound,
  OpenAiApiError,
  toOpenAiError,
} from '../http/openai-errors.js';
import { jsonBody } from '../http/json-body.js';
import { openEventStream, writeData } from '../http/server-sent-events.js';
import { parseChatRequest, type ChatRequest } from '../openai/chat-request.js';
import {
  CompletionChunks,
  presentCompletion,
  presentModel,
  presentModelList,
  unixSeconds,
} from '../openai/chat-response.js';
import { operation } from '../openapi/operation.js';
import { eventStream } from '../openapi/schemas.js';

/**
 * Largest chat request body: images come inline as base64 data URLs. ai-gateway-service receives
 * at most 4 MiB per gRPC message (grpc-js's default), and base64 is 4/3 of the bytes.
 */
export const CHAT_BODY_LIMIT = '4mb';

// `Idempotency-Key`: the same key from the same user is answered once (see request ids below).
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,120}$/;

export interface OpenAiRouteDeps {
  ai: AiGatewayClient;
  requireAuth: RequireAuth;
  logger: Logger;
}

/**
 * /v1: the OpenAI-compatible API (decision 0017), so OpenAI's official SDKs work unchanged with a
 * TE-explico API key as their `apiKey`. Models are the caller's ModelCatalog; chat completions run on
 * Infer / InferStream. Every route needs the `explain` scope. Errors are OpenAI's shape, not the
 * envelope — including 401/403 and unknown paths, which this router answers itself. It parses its
 * own JSON bodies (larger than the rest of the API's), so it is mounted before the app's parser.
 */
export function openAiCompatibleRoutes(deps: OpenAiRouteDeps): Router {
  const router = Router();
  const auth = deps.requireAuth(SCOPES.explain);
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store'); // per-user answers
    next();
  });

  router.get(
    '/models',
    operation({
      tag: 'openai',
      summary: 'List models (OpenAI format)',
      operationId: 'openAiListModels',
      errorFormat: 'openai',
      responses: {
        200: { description: 'OpenAI’s model list', content: { 'application/json': OPENAI_MODEL_LIST } },
      },
    }),
    auth,
    async (_req, res) => {
      const { models } = await deps.ai.models.list();
      res.json(presentModelList(models ?? []));
    },
  );

  router.get(
    '/models/:model',
    operation({
      tag: 'openai',
      summary: 'Retrieve a model (OpenAI format)',
      operationId: 'openAiRetrieveModel',
      errorFormat: 'openai',
      responses: {
        200: { description: 'OpenAI’s model object', content: { 'application/json': OPENAI_MODEL } },
      },
      errors: ['NOT_FOUND'],
    }),
    auth,
    async (req, res) => {
      const name = String(req.params['model']);
      const { models } = await deps.ai.models.list();
      const model = (models ?? []).find((candidate) => candidate.name === name);
      if (!model) throw modelNotFound(name);
      res.json(presentModel(model));
    },
  );

  router.post(
    '/chat/completions',
    operation({
      tag: 'openai',
      summary: 'Create a chat completion (OpenAI format)',
      operationId: 'openAiCreateChatCompletion',
      description:
        'OpenAI’s Chat Completions request: `model`, `messages` (`system`, `developer`, `user`, `assistant`; ' +
        'content a string or `text` / `image_url` parts with `data:` URLs), `max_completion_tokens` or ' +
        '`max_tokens`, `stream`, `stream_options.include_usage`. Sampling parameters are accepted and ' +
        'ignored; tools, `n` > 1, `stop`, `logprobs` and other output formats are refused (400 naming the ' +
        'member). With `stream: true`: `text/event-stream` of `chat.completion.chunk`s ending `data: [DONE]`.',
      errorFormat: 'openai',
      headers: {
        'Idempotency-Key': {
          description: 'A retry with the same key returns the first answer (24 h, billed once)',
        },
      },
      bodyContent: { 'application/json': OPENAI_CHAT_REQUEST },
      responses: {
        200: {
          description: 'A `chat.completion`, or with `stream: true` Server-Sent Events of chunks',
          content: { 'application/json': OPENAI_CHAT_COMPLETION, 'text/event-stream': eventStream },
        },
      },
      errors: [
        'VALIDATION_FAILED',
        'BAD_REQUEST',
        'NOT_FOUND',
        'PAYLOAD_TOO_LARGE',
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    }),
    auth,
    ...jsonBody(CHAT_BODY_LIMIT),
    async (req, res) => {
      if (!req.is('application/json'))
        throw new OpenAiApiError(
          'UNSUPPORTED_MEDIA_TYPE',
          'The request body must be JSON (Content-Type: application/json).',
        );
      const chat = parseChatRequest(req.body);
      const request = {
        requestId: requestIdOf(req),
        model: chat.model,
        messages: chat.messages,
        maxOutputTokens: chat.maxOutputTokens,
        metadata: { api: 'openai.chat.completions', http_request_id: String(res.locals.requestId ?? '') },
      };
      if (chat.stream) return streamCompletion(res, deps, chat, request);
      const gone = cancelOnClose(res);
      try {
        const answer = await deps.ai.inference.infer(request, gone);
        res.json(presentCompletion(answer, unixSeconds()));
      } catch (error) {
        if (gone.aborted) return; // nobody to answer
        throw fromUpstream(error, chat);
      }
    },
  );

  router.use(openAiNotFound());
  router.use(openAiErrorHandler(deps.logger));
  return router;
}

type InferRequest = Parameters<AiGatewayClient['inference']['inferStream']>[0];

/**
 * stream: true — Server-Sent Events of `chat.completion.chunk`s relayed from InferStream: the role,
 * each delta as it arrives, the finish reason, the usage (with stream_options.include_usage), then
 * `data: [DONE]`. Nothing is sent until InferStream has started, so a refusal (400, 404, 429 …) is an
 * ordinary JSON error. A failure after that is a `data: {"error": …}` event (which the SDKs raise)
 * and the end, without [DONE]. The client going away cancels the gRPC call and so the provider's.
 */
async function streamCompletion(
  res: Response,
  deps: OpenAiRouteDeps,
  chat: ChatRequest,
  request: InferRequest,
) {
  const gone = cancelOnClose(res);
  const events = deps.ai.inference.inferStream(request, gone)[Symbol.asyncIterator]();
  let next: IteratorResult<Awaited<ReturnType<typeof events.next>>['value']>;
  try {
    next = await events.next();
  } catch (error) {
    if (gone.aborted) return;
    throw fromUpstream(error, chat);
  }
  if (next.done || !next.value.started) {
    await events.return?.();
    throw new AppError('UNAVAILABLE', 'The inference stream ended before it started');
  }
  const chunks = new CompletionChunks(next.value.started, unixSeconds(), chat.includeUsage);
  openEventStream(res);
  let completed = false;
  try {
    await writeData(res, JSON.stringify(chunks.role()));
    for (next = await events.next(); !next.done && !gone.aborted; next = await events.next()) {
      const { delta, completed: answer } = next.value;
      if (delta?.text) await writeData(res, JSON.stringify(chunks.content(delta.text)));
      else if (answer) {
        await writeData(res, JSON.stringify(chunks.finish(answer)));
        if (chat.includeUsage) await writeData(res, JSON.stringify(chunks.usage(answer)));
        await writeData(res, '[DONE]');
        completed = true;
      }
    }
    if (!completed && !gone.aborted)
      throw new AppError('UNAVAILABLE', 'The answer ended before it was complete');
  } catch (error) {
    if (gone.aborted) return;
    const appError = AppError.from(fromUpstream(error, chat));
    logFailure(deps.logger, error, appError);
    await writeData(res, JSON.stringify(toOpenAiError(appError).body));
  } finally {
    await events.return?.(); // a no-op once the call ended; otherwise cancels it
    res.end();
  }
}

/** A signal that aborts when the response closes before it was finished (the client went away). */
function cancelOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * InferRequest.request_id, ai-gateway-service's idempotency key (per user, 24 h): a fresh UUID per
 * HTTP request, or the client's `Idempotency-Key` — then a retry with the same key is answered from
 * the first attempt and billed once. Keys live in their own namespace (`openai:`), apart from the
 * message ids context-service uses.
 */
function requestIdOf(req: Request): string {
  const key = req.get('idempotency-key');
  if (key === undefined) return randomUUID();
  if (!IDEMPOTENCY_KEY.test(key))
    throw new OpenAiApiError(
      'VALIDATION_FAILED',
      "Invalid 'Idempotency-Key' header: 1–120 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'.",
      { param: 'Idempotency-Key', openAiCode: 'invalid_value' },
    );
  return `openai:${key}`;
}

function modelNotFound(name: string): OpenAiApiError {
  return new OpenAiApiError(
    'NOT_FOUND',
    `The model '${name}' does not exist or you do not have access to it.`,
    {
      param: 'model',
      openAiCode: 'model_not_found',
    },
  );
}

/** ai-gateway-service's errors in the request's own terms (OpenAI member names and message positions). */
function fromUpstream(error: unknown, chat: ChatRequest): unknown {
  if (!(error instanceof AppError)) return error;
  if (error.code === 'NOT_FOUND') return modelNotFound(chat.model);
  const [first] = error.fields ?? [];
  if (error.code === 'VALIDATION_FAILED' && first)
    return invalidParam(paramOf(first.field, chat), first.message);
  return error;
}

// te.ai.v1 field names → the body's: `messages[k]` of the merged list → the body's index, images → image_url.
function paramOf(field: string, chat: ChatRequest): string {
  if (field === 'max_output_tokens') return chat.maxTokensParam;
  return field
    .replace(/^messages\[(\d+)\]/, (_all, k: string) => `messages[${chat.messageIndex[Number(k)] ?? k}]`)
    .replace(/\.image(\.[a-z_]+)?$/, '.image_url');
}

// ---- OpenAI's shapes for the OpenAPI document (the parser in src/openai/chat-request.ts is the authority).

const OPENAI_MODEL = {
  type: 'object',
  required: ['id', 'object', 'created', 'owned_by'],
  properties: {
    id: { type: 'string' },
    object: { const: 'model' },
    created: { type: 'integer' },
    owned_by: { type: 'string' },
  },
};

const OPENAI_MODEL_LIST = {
  type: 'object',
  required: ['object', 'data'],
  properties: { object: { const: 'list' }, data: { type: 'array', items: OPENAI_MODEL } },
};

const OPENAI_CHAT_REQUEST = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { enum: ['system', 'developer', 'user', 'assistant'] },
          content: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
        },
      },
    },
    max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
    max_tokens: { type: ['integer', 'null'], minimum: 1 },
    stream: { type: ['boolean', 'null'] },
    stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
  },
};

const OPENAI_CHAT_COMPLETION = {
  type: 'object',
  required: ['id', 'object', 'created', 'model', 'choices', 'usage'],
  properties: {
    id: { type: 'string', description: '`chatcmpl-<inference id>`' },
    object: { const: 'chat.completion' },
    created: { type: 'integer' },
    model: { type: 'string', description: 'The version that answered' },
    choices: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          message: {
            type: 'object',
            properties: { role: { const: 'assistant' }, content: { type: 'string' } },
          },
          finish_reason: { enum: ['stop', 'length', 'content_filter'] },
        },
      },
    },
    usage: {
      type: 'object',
      properties: {
        prompt_tokens: { type: 'integer' },
        completion_tokens: { type: 'integer' },
        total_tokens: { type: 'integer' },
      },
    },
  },
};
