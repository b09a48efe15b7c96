import type { ChatMessage } from '../providers/index.js';
import { estimateInputTokens } from '../providers/token-estimate.js';

/**
 * The tokens to hold before a call: the estimated prompt (token-estimate.ts: 4 characters a token,
 * framing per message, 765 per image) plus the most the answer may take — max_output_tokens, or the
 * model's own maximum when the request leaves it at 0. Settling replaces it by the real usage.
 */
export function reservationTokens(
  messages: readonly ChatMessage[],
  maxOutputTokens: number,
  modelMaxOutputTokens: number,
): number {
  return estimateInputTokens(messages) + (maxOutputTokens > 0 ? maxOutputTokens : modelMaxOutputTokens);
}
