import { HttpModelProvider, joinUrl, type WireRequest } from './http-provider.js';
import { ProviderError } from './provider-error.js';
import {
  messageText,
  type ChatMessage,
  type Completion,
  type FinishReason,
  type InferenceRequest,
  type StreamEvent,
  type TokenUsage,
} from './provider.js';
import type { SseEvent } from './sse.js';
import { estimateInputTokens, estimateTextTokens } from './token-estimate.js';

type OpenAiContent =
  string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[];

/**
 * OpenAI Chat Completions (https://platform.openai.com/docs/api-reference/chat) and the servers that
 * speak it: vLLM, Ollama, llama.cpp server, LM Studio; Azure OpenAI deployments through a base URL
 * ending in /openai/deployments/<name> with an api-version (then the key goes in `api-key`).
 * `max_tokens` rather than `max_completion_tokens`: every compatible server understands it.
 */
export class OpenAiCompatibleProvider extends HttpModelProvider {
  readonly kind = 'openai' as const;

  protected buildRequest(request: InferenceRequest, stream: boolean, apiKey?: string): WireRequest {
    const { apiVersion, baseUrl } = this.settings;
    const headers: Record<string, string> = { accept: stream ? 'text/event-stream' : 'application/json' };
    if (apiKey) {
      if (apiVersion) headers['api-key'] = apiKey;
      else headers.authorization = `Bearer ${apiKey}`;
    }
    const body: Record<string, unknown> = {
      model: request.model,
      messages: request.messages.map(toOpenAiMessage),
    };
    if (request.maxOutputTokens > 0) body.max_tokens = request.maxOutputTokens;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    return { url: joinUrl(baseUrl, 'chat/completions', { 'api-version': apiVersion }), headers, body };
  }

  protected parseCompletion(body: unknown, request: InferenceRequest): Omit<Completion, 'latencyMs'> {
    const answer = body as OpenAiCompletion;
    const choice = answer?.choices?.[0];
    if (!choice?.message) throw this.badResponse('The model provider sent an answer without a choice');
    const text = typeof choice.message.content === 'string' ? choice.message.content : '';
    return {
      text,
      finishReason: finishReason(choice.finish_reason),
      usage: usageFrom(answer.usage, request, text),
      providerModel: typeof answer.model === 'string' && answer.model ? answer.model : request.model,
    };
  }

  protected async *parseStream(
    events: AsyncIterable<SseEvent>,
    request: InferenceRequest,
  ): AsyncGenerator<StreamEvent> {
    let text = '';
    let finish: FinishReason | undefined;
    let usage: OpenAiUsage | undefined;
    let sawDone = false;
    for await (const event of events) {
      if (event.data === '[DONE]') {
        sawDone = true;
        break;
      }
      const chunk = this.eventJson(event) as OpenAiChunk;
      if (chunk.error) throw this.streamError(chunk.error);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      const delta = choice?.delta?.content;
      if (typeof delta === 'string' && delta) {
        text += delta;
        yield { type: 'delta', text: delta };
      }
      if (choice?.finish_reason) finish = finishReason(choice.finish_reason);
    }
    // A stream that closes without [DONE] and without a finish_reason was cut: the base class says so.
    if (finish === undefined && !sawDone) return;
    yield { type: 'done', finishReason: finish ?? 'stop', usage: usageFrom(usage, request, text) };
  }

  protected errorMessage(body: unknown): string | undefined {
    const error = (body as { error?: { message?: unknown } | string })?.error;
    if (typeof error === 'string') return error;
    return typeof error?.message === 'string' ? error.message : undefined;
  }

  // vLLM and OpenAI report failures after the headers as a data event with an `error` object.
  private streamError(error: { message?: unknown; code?: unknown; type?: unknown }): ProviderError {
    const rateLimited = error.code === 'rate_limit_exceeded' || error.type === 'rate_limit_error';
    return new ProviderError(
      rateLimited ? 'RATE_LIMITED' : 'UNAVAILABLE',
      `The model provider failed while answering${error.message ? `: ${this.sanitise(error.message)}` : ''}`,
      { provider: this.id, retryable: true, reason: rateLimited ? 'rate_limited' : 'stream_error' },
    );
  }
}

interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

interface OpenAiCompletion {
  model?: string;
  choices?: { message?: { content?: unknown }; finish_reason?: string | null }[];
  usage?: OpenAiUsage | null;
}

interface OpenAiChunk {
  choices?: { delta?: { content?: unknown }; finish_reason?: string | null }[];
  usage?: OpenAiUsage | null;
  error?: { message?: unknown; code?: unknown; type?: unknown };
}

function toOpenAiMessage(message: ChatMessage): { role: string; content: OpenAiContent } {
  // System and assistant turns are text only; a user turn with only text stays a plain string, which
  // every compatible server accepts (some older ones reject the array form).
  if (message.role !== 'user' || message.content.every((part) => part.type === 'text'))
    return { role: message.role, content: messageText(message) };
  return {
    role: message.role,
    content: message.content.map((part) =>
      part.type === 'text'
        ? { type: 'text' as const, text: part.text }
        : {
            type: 'image_url' as const,
            image_url: { url: `data:${part.mediaType};base64,${Buffer.from(part.data).toString('base64')}` },
          },
    ),
  };
}

function finishReason(reason: string | null | undefined): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'content_filter';
  return 'stop';
}

function usageFrom(
  usage: OpenAiUsage | null | undefined,
  request: InferenceRequest,
  text: string,
): TokenUsage {
  const input = usage?.prompt_tokens;
  const output = usage?.completion_tokens;
  if (typeof input === 'number' && input >= 0 && typeof output === 'number' && output >= 0)
    return { inputTokens: input, outputTokens: output, estimated: false };
  return {
    inputTokens: estimateInputTokens(request.messages),
    outputTokens: estimateTextTokens(text),
    estimated: true,
  };
}
