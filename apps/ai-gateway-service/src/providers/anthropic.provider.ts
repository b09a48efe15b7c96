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

/** The Messages API requires max_tokens; every current Claude model can give at least this many. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;
export const ANTHROPIC_VERSION = '2023-06-01';

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } };

/**
 * Anthropic Messages API (https://docs.anthropic.com/en/api/messages) and its event stream
 * (https://docs.anthropic.com/en/api/messages-streaming): message_start, content_block_* , message_delta
 * (stop_reason and the cumulative output_tokens), message_stop, ping and error.
 */
export class AnthropicProvider extends HttpModelProvider {
  readonly kind = 'anthropic' as const;

  protected buildRequest(request: InferenceRequest, stream: boolean, apiKey?: string): WireRequest {
    const headers: Record<string, string> = {
      'anthropic-version': ANTHROPIC_VERSION,
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (apiKey) headers['x-api-key'] = apiKey;
    const [first, ...rest] = request.messages;
    const system = first.role === 'system' ? messageText(first) : undefined;
    const body: Record<string, unknown> = {
      model: request.model,
      max_tokens: request.maxOutputTokens > 0 ? request.maxOutputTokens : ANTHROPIC_DEFAULT_MAX_TOKENS,
      messages: (system === undefined ? request.messages : rest).map(toAnthropicMessage),
    };
    if (system) body.system = system;
    if (request.temperature !== undefined) body.temperature = Math.min(1, request.temperature);
    if (stream) body.stream = true;
    return { url: joinUrl(this.settings.baseUrl, 'v1/messages'), headers, body };
  }

  protected parseCompletion(body: unknown, request: InferenceRequest): Omit<Completion, 'latencyMs'> {
    const answer = body as AnthropicMessage;
    if (!Array.isArray(answer?.content))
      throw this.badResponse('The model provider sent an answer without content');
    const text = answer.content
      .filter((block) => block.type === 'text' && typeof block.text === 'string')
      .map((block) => block.text)
      .join('');
    const input = inputTokens(answer.usage);
    const output = count(answer.usage?.output_tokens);
    const usage: TokenUsage =
      input !== undefined && output !== undefined
        ? { inputTokens: input, outputTokens: output, estimated: false }
        : estimated(request, text);
    return {
      text,
      finishReason: finishReason(answer.stop_reason),
      usage,
      providerModel: typeof answer.model === 'string' && answer.model ? answer.model : request.model,
    };
  }

  protected async *parseStream(
    events: AsyncIterable<SseEvent>,
    request: InferenceRequest,
  ): AsyncGenerator<StreamEvent> {
    let text = '';
    let input: number | undefined;
    let output: number | undefined;
    let finish: FinishReason = 'stop';
    for await (const event of events) {
      const data = this.eventJson(event) as AnthropicStreamEvent;
      switch (data.type ?? event.event) {
        case 'message_start':
          input = inputTokens(data.message?.usage);
          output = count(data.message?.usage?.output_tokens);
          break;
        case 'content_block_delta':
          if (data.delta?.type === 'text_delta' && typeof data.delta.text === 'string' && data.delta.text) {
            text += data.delta.text;
            yield { type: 'delta', text: data.delta.text };
          }
          break;
        case 'message_delta':
          if (data.delta?.stop_reason) finish = finishReason(data.delta.stop_reason);
          output = count(data.usage?.output_tokens) ?? output;
          input = inputTokens(data.usage) ?? input;
          break;
        case 'message_stop': {
          const usage: TokenUsage =
            input !== undefined && output !== undefined
              ? { inputTokens: input, outputTokens: output, estimated: false }
              : estimated(request, text);
          yield { type: 'done', finishReason: finish, usage };
          return;
        }
        case 'error':
          throw this.streamError(data.error);
        default:
          // ping, content_block_start/stop, and event types added later: ignored, as Anthropic advises.
          break;
      }
    }
  }

  protected errorMessage(body: unknown): string | undefined {
    const message = (body as { error?: { message?: unknown } })?.error?.message;
    return typeof message === 'string' ? message : undefined;
  }

  private streamError(error: { type?: string; message?: unknown } | undefined): ProviderError {
    const said = error?.message ? `: ${this.sanitise(error.message)}` : '';
    const provider = this.id;
    if (error?.type === 'rate_limit_error')
      return new ProviderError('RATE_LIMITED', 'The model provider is rate limiting requests', {
        provider,
        retryable: true,
        reason: 'rate_limited',
      });
    if (error?.type === 'invalid_request_error')
      return new ProviderError('VALIDATION_FAILED', `The model provider rejected the request${said}`, {
        provider,
        retryable: false,
        reason: 'rejected',
      });
    return new ProviderError('UNAVAILABLE', `The model provider failed while answering${said}`, {
      provider,
      retryable: true,
      reason: error?.type === 'overloaded_error' ? 'overloaded' : 'stream_error',
    });
  }
}

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

interface AnthropicMessage {
  model?: string;
  content?: { type?: string; text?: string }[];
  stop_reason?: string | null;
  usage?: AnthropicUsage;
}

interface AnthropicStreamEvent {
  type?: string;
  message?: { usage?: AnthropicUsage };
  delta?: { type?: string; text?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: { type?: string; message?: unknown };
}

function toAnthropicMessage(message: ChatMessage): { role: string; content: AnthropicBlock[] } {
  return {
    role: message.role,
    content: message.content.map((part) =>
      part.type === 'text'
        ? { type: 'text' as const, text: part.text }
        : {
            type: 'image' as const,
            source: {
              type: 'base64' as const,
              media_type: part.mediaType,
              data: Buffer.from(part.data).toString('base64'),
            },
          },
    ),
  };
}

// Prompt caching reports cached input separately; all of it is input the caller sent.
function inputTokens(usage: AnthropicUsage | undefined): number | undefined {
  const input = count(usage?.input_tokens);
  if (input === undefined) return undefined;
  return (
    input + (count(usage?.cache_creation_input_tokens) ?? 0) + (count(usage?.cache_read_input_tokens) ?? 0)
  );
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function estimated(request: InferenceRequest, text: string): TokenUsage {
  return {
    inputTokens: estimateInputTokens(request.messages),
    outputTokens: estimateTextTokens(text),
    estimated: true,
  };
}

function finishReason(reason: string | null | undefined): FinishReason {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'refusal') return 'content_filter';
  return 'stop';
}
