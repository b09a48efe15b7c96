import type { ChatMessage } from './provider.js';

/**
 * Token counts for when a provider reports none (some OpenAI-compatible servers, streams without
 * `include_usage` support, the local provider). A heuristic, always flagged `estimated: true`:
 * - text: one token per 4 characters (OpenAI's rule of thumb for English; code and other scripts run
 *   denser, so this tends to under-count them), rounded up;
 * - each message: 4 tokens of chat framing (role and separators, as OpenAI documents for its chat
 *   format), plus 3 for the reply's priming;
 * - each image: 765 tokens, what OpenAI bills for a 1024×1024 image in high detail, without decoding it.
 */
export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_REPLY = 3;
export const TOKENS_PER_IMAGE = 765;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateInputTokens(messages: readonly ChatMessage[]): number {
  let tokens = TOKENS_PER_REPLY;
  for (const message of messages) {
    tokens += TOKENS_PER_MESSAGE;
    for (const part of message.content) {
      tokens += part.type === 'text' ? estimateTextTokens(part.text) : TOKENS_PER_IMAGE;
    }
  }
  return tokens;
}
