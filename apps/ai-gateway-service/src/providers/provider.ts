/**
 * The one interface every model provider adapter implements. It speaks the te.ai.v1 inference
 * contract's shapes (proto/te/ai/v1/inference.proto) in plain TypeScript, so the inference use cases
 * never see a provider's wire format.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

export type ContentPart =
  { type: 'text'; text: string } | { type: 'image'; mediaType: ImageMediaType; data: Uint8Array };

export interface ChatMessage {
  role: ChatRole;
  content: ContentPart[];
}

export interface InferenceRequest {
  /** The provider's own model id ("gpt-4o-mini", "claude-sonnet-4-5", "qwen2.5:7b"). */
  model: string;
  /** Oldest first; at most one system message, first. */
  messages: ChatMessage[];
  /** Upper bound of the answer; 0 lets the provider's (or the adapter's documented) default apply. */
  maxOutputTokens: number;
  temperature?: number;
}

/** As in the contract: "stop", "length", "content_filter" or "error". */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'error';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** True when the provider reported no usage and the numbers come from estimateTokens. */
  estimated: boolean;
}

export interface Completion {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  /** The model the provider says answered (it may resolve an alias to a dated snapshot). */
  providerModel: string;
  latencyMs: number;
}

export type StreamEvent =
  { type: 'delta'; text: string } | { type: 'done'; finishReason: FinishReason; usage: TokenUsage };

export interface CallOptions {
  /** The caller gave up (gRPC cancellation, client disconnect): the HTTP request is aborted at once. */
  signal?: AbortSignal;
  /** Absolute time (epoch ms or Date) after which the call fails with DEADLINE_EXCEEDED. */
  deadline?: number | Date;
}

export type ProviderKind = 'openai' | 'anthropic' | 'local';

export interface ModelProvider {
  /** The configured id ("openai", "azure-eu", "local"); appears in logs, metrics and InferResponse.provider. */
  readonly id: string;
  readonly kind: ProviderKind;
  /** Errors are ProviderError (an AppError with a stable code, `retryable` and, for streams, `partial`). */
  complete(request: InferenceRequest, options?: CallOptions): Promise<Completion>;
  /** Deltas as the provider produces them, then exactly one `done`; a failure is thrown from the iterator. */
  stream(request: InferenceRequest, options?: CallOptions): AsyncIterable<StreamEvent>;
}

/** The text of a message's text parts, in order, separated by blank lines. */
export function messageText(message: ChatMessage): string {
  return message.content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('\n\n');
}
