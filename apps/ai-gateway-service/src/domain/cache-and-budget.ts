import { randomUUID } from 'node:crypto';
import type { Logger } from '@te/platform';
import { reservationTokens } from '../budget/reservation-size.js';
import type { TokenUsage } from '../providers/index.js';
import { estimateInputTokens, estimateTextTokens } from '../providers/token-estimate.js';
import type { InferInput } from './infer-input.js';
import type { InferenceAnswer } from './inference.js';
import type {
  CachedAnswer,
  ResponseCache,
  ResponseCacheRequest,
  TokenBudget,
  TokenReservation,
} from './ports.js';
import type { ResolvedModel } from './resolve-model.js';

/**
 * The inference use cases' side of the response cache and the token budgets (decision 0020): what a
 * hit answers, what is cached, and the one settlement of a reservation.
 */

/** The cache's key for this request, or undefined when the caller did not opt in (or there is no cache). */
export function cacheRequestFor(
  input: InferInput,
  userId: string,
  cache: ResponseCache | undefined,
): ResponseCacheRequest | undefined {
  if (!input.useCache || !cache) return undefined;
  return { userId, model: input.model, maxOutputTokens: input.maxOutputTokens, messages: input.messages };
}

/** A hit as this inference's answer: a new id, cached, and nothing used or billed. */
export function answerFromCache(hit: CachedAnswer, latencyMs: number): InferenceAnswer {
  return {
    inferenceId: randomUUID(),
    modelVersion: hit.modelVersion,
    provider: hit.provider,
    text: hit.text,
    finishReason: hit.finishReason,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: '0.000000', estimated: false },
    latencyMs,
    cached: true,
  };
}

/** Stores a complete answer when the request opted in; a cache problem never fails the inference. */
export async function cacheAnswer(
  request: ResponseCacheRequest | undefined,
  answer: InferenceAnswer,
  deps: { cache?: ResponseCache; logger: Logger },
): Promise<void> {
  if (!request || !deps.cache || answer.cached) return;
  if (answer.finishReason !== 'stop' && answer.finishReason !== 'length') return;
  try {
    await deps.cache.put(request, {
      text: answer.text,
      finishReason: answer.finishReason,
      usage: {
        inputTokens: answer.usage.inputTokens,
        outputTokens: answer.usage.outputTokens,
        estimated: answer.usage.estimated,
      },
      modelVersion: answer.modelVersion,
      provider: answer.provider,
    });
  } catch (error) {
    deps.logger.warn('could not store an answer in the response cache', { err: error });
  }
}

/**
 * The tokens held for one inference until it ends: settled once, by the real usage, by an estimate
 * of a stream cut off after some output, or released when nothing came back.
 */
export class BudgetHold {
  private open = true;

  private constructor(
    private readonly reservation: TokenReservation | undefined,
    private readonly estimatedInput: number,
    private readonly deps: { budget?: TokenBudget; logger: Logger },
  ) {}

  /** Reserves the prompt estimate + the most the answer may take over the chain (RATE_LIMITED when no room). */
  static async reserve(
    input: InferInput,
    userId: string,
    resolved: ResolvedModel,
    deps: { budget?: TokenBudget; logger: Logger },
  ): Promise<BudgetHold> {
    const estimatedInput = estimateInputTokens(input.messages);
    if (!deps.budget) return new BudgetHold(undefined, estimatedInput, deps);
    const modelMax = Math.max(...resolved.chain.map((version) => version.capabilities.maxOutputTokens));
    const tokens = reservationTokens(input.messages, input.maxOutputTokens, modelMax);
    return new BudgetHold(await deps.budget.reserve(userId, tokens), estimatedInput, deps);
  }

  /** The call answered: what it used (as billed) replaces the hold. */
  settle(usage: Pick<TokenUsage, 'inputTokens' | 'outputTokens'>): Promise<void> {
    return this.finish(usage.inputTokens + usage.outputTokens);
  }

  /**
   * The call failed or was cancelled. Nothing delivered → released; some output delivered (a stream
   * cut off) → the prompt and that output are counted as estimated, so cancelling just before the
   * end does not escape the budget.
   */
  abandon(deliveredText = ''): Promise<void> {
    return this.finish(deliveredText ? this.estimatedInput + estimateTextTokens(deliveredText) : 0);
  }

  private async finish(tokens: number): Promise<void> {
    if (!this.open || !this.reservation || !this.deps.budget) return;
    this.open = false;
    try {
      if (tokens > 0) await this.deps.budget.settle(this.reservation, tokens);
      else await this.deps.budget.release(this.reservation);
    } catch (error) {
      // The hold expires on its own (its TTL); the inference's outcome does not change.
      this.deps.logger.warn('could not settle a token reservation', { err: error });
    }
  }
}
