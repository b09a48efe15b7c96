import type { teAiV1 } from '@te/grpc';
import { z } from 'zod';
import { invalidParam, OpenAiApiError, unsupportedParam } from '../http/openai-errors.js';
import { toContentParts, type ContentPart } from './chat-content.js';

/**
 * POST /v1/chat/completions' body (https://platform.openai.com/docs/api-reference/chat/create) →
 * te.ai.v1.InferRequest. Three kinds of members:
 * - used: model, messages, max_tokens / max_completion_tokens, stream, stream_options.include_usage;
 * - ignored: hints that do not change what an answer is (sampling, bookkeeping: temperature, user, …);
 * - refused with a 400 unless neutral: features this server cannot honour (tools, n > 1, stop, …), so a
 *   client never silently gets something other than it asked for.
 * Anything else is a 400 "Unrecognized request argument", as OpenAI answers.
 */
export interface ChatRequest {
  model: string;
  messages: teAiV1.ChatMessage[];
  /** 0: the model's default. */
  maxOutputTokens: number;
  /** Which member set it, to name it in errors. */
  maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  stream: boolean;
  includeUsage: boolean;
  /** messages[k] of the InferRequest came from messages[messageIndex[k]] of the body (systems are merged). */
  messageIndex: number[];
}

export const MAX_MESSAGES = 2_048;
const tokens = z.number().int().min(1).max(2_147_483_647);
const orNull = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const body = z.object({
  model: z.string().min(1).max(200),
  messages: z.array(z.unknown()).min(1).max(MAX_MESSAGES),
  max_tokens: orNull(tokens),
  max_completion_tokens: orNull(tokens),
  stream: orNull(z.boolean()),
  stream_options: orNull(
    z.object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }),
  ),
  // Ignored, but malformed values are refused as OpenAI refuses them.
  temperature: orNull(z.number().min(0).max(2)),
  top_p: orNull(z.number().min(0).max(1)),
});

/** Accepted and ignored: they tune sampling or bookkeeping, never what kind of answer comes back. */
const IGNORED = [
  'temperature',
  'top_p',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  'reasoning_effort',
  'verbosity',
  'parallel_tool_calls',
  'top_logprobs',
];

const isNone = (value: unknown) => value === undefined || value === null;
const isEmptyList = (value: unknown) => isNone(value) || (Array.isArray(value) && value.length === 0);
const TOOLS = 'tools and function calling are not supported by this server';

/** Refused unless the value asks for nothing this server lacks. */
const REFUSED: Record<string, { neutral: (value: unknown) => boolean; reason: string }> = {
  n: { neutral: (v) => isNone(v) || v === 1, reason: 'only one choice per request (n = 1) is supported' },
  tools: { neutral: isEmptyList, reason: TOOLS },
  tool_choice: { neutral: (v) => isNone(v) || v === 'none', reason: TOOLS },
  functions: { neutral: isEmptyList, reason: TOOLS },
  function_call: { neutral: (v) => isNone(v) || v === 'none', reason: TOOLS },
  stop: { neutral: isEmptyList, reason: 'stop sequences are not supported' },
  logprobs: { neutral: (v) => isNone(v) || v === false, reason: 'log probabilities are not available' },
  response_format: {
    neutral: (v) => isNone(v) || (typeof v === 'object' && (v as { type?: unknown }).type === 'text'),
    reason: 'only text answers are supported (no json_object or json_schema)',
  },
  modalities: {
    neutral: (v) => isNone(v) || (Array.isArray(v) && v.every((m) => m === 'text')),
    reason: 'only text answers are supported',
  },
  audio: { neutral: isNone, reason: 'audio answers are not supported' },
  prediction: { neutral: isNone, reason: 'predicted outputs are not supported' },
  web_search_options: { neutral: isNone, reason: 'web search is not supported' },
  moderation: { neutral: isNone, reason: 'moderation options are not supported' },
};

const KNOWN = new Set([...Object.keys(body.shape), ...IGNORED, ...Object.keys(REFUSED)]);

/** Checks the body and builds the InferRequest's content; throws a 400 naming the first problem. */
export function parseChatRequest(raw: unknown): ChatRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new OpenAiApiError('VALIDATION_FAILED', 'The request body must be a JSON object.');
  const unknown = Object.keys(raw).filter((key) => !KNOWN.has(key));
  if (unknown.length)
    throw new OpenAiApiError(
      'VALIDATION_FAILED',
      `Unrecognized request argument${unknown.length > 1 ? 's' : ''} supplied: ${unknown.join(', ')}`,
      { param: unknown[0], openAiCode: 'unknown_parameter' },
    );
  for (const [name, rule] of Object.entries(REFUSED)) {
    if (!rule.neutral((raw as Record<string, unknown>)[name])) throw unsupportedParam(name, rule.reason);
  }
  const parsed = body.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidParam(paramOf(issue.path), issue.message);
  }
  const input = parsed.data;
  if (
    input.max_tokens != null &&
    input.max_completion_tokens != null &&
    input.max_tokens !== input.max_completion_tokens
  )
    throw invalidParam('max_tokens', 'set max_tokens or max_completion_tokens, not both');
  return {
    model: input.model,
    ...toMessages(input.messages),
    maxOutputTokens: input.max_completion_tokens ?? input.max_tokens ?? 0,
    maxTokensParam:
      input.max_completion_tokens == null && input.max_tokens != null
        ? 'max_tokens'
        : 'max_completion_tokens',
    stream: input.stream === true,
    includeUsage: input.stream === true && input.stream_options?.include_usage === true,
  };
}

/**
 * OpenAI messages → te.ai.v1 ChatMessages. The contract takes one system message, first: leading
 * `system` and `developer` messages (developer is the newer name for system) are joined into it; one
 * after the conversation has started is refused rather than moved.
 */
function toMessages(list: unknown[]): Pick<ChatRequest, 'messages' | 'messageIndex'> {
  const messages: teAiV1.ChatMessage[] = [];
  const messageIndex: number[] = [];
  const system: ContentPart[] = [];
  let conversationStarted = false;
  list.forEach((raw, index) => {
    const at = `messages[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalidParam(at, 'must be an object with a role and content');
    const message = raw as Record<string, unknown>;
    switch (message.role) {
      case 'system':
      case 'developer':
        if (conversationStarted)
          throw invalidParam(
            `${at}.role`,
            'system and developer messages must come before the user and assistant messages',
          );
        if (!system.length) messageIndex.push(index);
        system.push(...toContentParts(message.content, `${at}.content`, 'text'));
        return;
      case 'user':
        conversationStarted = true;
        messages.push({ role: 'user', content: toContentParts(message.content, `${at}.content`, 'user') });
        messageIndex.push(index);
        return;
      case 'assistant':
        conversationStarted = true;
        if (!isEmptyList(message.tool_calls)) throw unsupportedParam(`${at}.tool_calls`, TOOLS);
        if (!isNone(message.function_call)) throw unsupportedParam(`${at}.function_call`, TOOLS);
        if (!isNone(message.audio)) throw unsupportedParam(`${at}.audio`, 'audio is not supported');
        messages.push({
          role: 'assistant',
          content: toContentParts(message.content, `${at}.content`, 'assistant'),
        });
        messageIndex.push(index);
        return;
      case 'tool':
      case 'function':
        throw unsupportedParam(`${at}.role`, TOOLS);
      default:
        throw invalidParam(`${at}.role`, "must be one of 'system', 'developer', 'user' or 'assistant'");
    }
  });
  // Providers join text parts as paragraphs, so the joined system messages stay apart.
  if (system.length) messages.unshift({ role: 'system', content: system });
  return { messages, messageIndex };
}

/** A zod path as OpenAI names members: `messages[0].content`. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, key) =>
      typeof key === 'number' ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key),
    '',
  );
}
