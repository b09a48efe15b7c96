import { randomUUID } from 'node:crypto';
import { AppError, type Logger } from '@te/platform';
import type { InferenceRequest, ModelProvider, TokenUsage } from '../providers/index.js';
import type { Candidate, ResilientCaller } from '../resilience/index.js';
import { answerFromCache, BudgetHold, cacheRequestFor } from './cache-and-budget.js';
import { costMicros, microsToUsd } from './cost.js';
import { hasImage, validateInferInput, type InferInput } from './infer-input.js';
import { inferenceFailed, type InferenceAnswer, type InferenceCall } from './inference.js';
import type {
  InferenceStore,
  RegistryView,
  ResponseCache,
  ResponseCacheRequest,
  TokenBudget,
} from './ports.js';
import type { ModelVersion } from './registry.js';
import type { ResolvedModel } from './resolve-model.js';

/** A request is answered from its stored answer for this long (the contract's idempotency window). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

export interface InferenceDeps {
  registry: RegistryView;
  providers: ReadonlyMap<string, ModelProvider>;
  /** Retries, fallback along the chain, breakers and concurrency limits around every provider call. */
  resilience: ResilientCaller;
  store: InferenceStore;
  /** Uniform in [0, 1): the alias draw. */
  random: () => number;
  clock: () => Date;
  source: string;
  logger: Logger;
  /** The opt-in response cache (decision 0020); none = use_cache is ignored. */
  cache?: ResponseCache;
  /** Per-user token budgets (decision 0020); none = unlimited. */
  budget?: TokenBudget;
}

/** What the caller's transport gives: who, and when to give up. */
export interface CallerContext {
  userId: string;
  signal?: AbortSignal;
  deadline?: Date;
}

/** One version of the resolved chain with its provider and the request in that version's terms. */
export interface ChainMember extends Candidate {
  version: ModelVersion;
}

export interface PreparedInference {
  call: InferenceCall;
  inferenceId: string;
  resolved: ResolvedModel;
  /** The versions to try in order (resolved.chain), ready to call. */
  chain: ChainMember[];
  /** Where a complete answer is cached (the caller opted in), else undefined. */
  cacheRequest?: ResponseCacheRequest;
  /** The tokens held for this inference: settle or abandon it exactly once. */
  budget: BudgetHold;
}

/**
 * Validates, then: the stored answer for (user, request_id); or resolves the model and — when the
 * caller opted in — answers from the response cache (to be saved like any answer); or holds the
 * token budget (RATE_LIMITED when exhausted) and prepares the provider call. Neither a stored nor a
 * cached answer consumes budget.
 */
export async function prepareInference(
  input: InferInput,
  caller: CallerContext,
  deps: InferenceDeps,
  earlierProblems: Parameters<typeof validateInferInput>[1] = [],
): Promise<
  | { stored: InferenceAnswer }
  | { cached: InferenceAnswer; call: InferenceCall }
  | { prepared: PreparedInference }
> {
  const started = performance.now();
  validateInferInput(input, earlierProblems);
  const now = deps.clock();
  const stored = await deps.store.findAnswer(
    caller.userId,
    input.requestId,
    new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
  );
  if (stored) return { stored };

  const resolved = deps.registry.resolver().resolve(input.model, {
    now,
    random: deps.random,
    callable: (version) => deps.providers.has(version.providerId),
  });
  checkCapabilities(input, resolved);
  const call: InferenceCall = { userId: caller.userId, requestId: input.requestId, metadata: input.metadata };
  const cacheRequest = cacheRequestFor(input, caller.userId, deps.cache);
  const hit = cacheRequest ? await deps.cache?.get(cacheRequest) : undefined;
  if (hit) return { cached: answerFromCache(hit, Math.round(performance.now() - started)), call };
  const chain = resolved.chain.map((version) => chainMember(version, input, deps));
  const budget = await BudgetHold.reserve(input, caller.userId, resolved, deps);
  return { prepared: { call, inferenceId: randomUUID(), resolved, chain, cacheRequest, budget } };
}

function chainMember(version: ModelVersion, input: InferInput, deps: InferenceDeps): ChainMember {
  // resolve() only returns versions whose provider is configured (callable above).
  const provider = deps.providers.get(version.providerId);
  if (!provider) throw new AppError('UNAVAILABLE', `The provider "${version.providerId}" is not configured`);
  const temperature = version.parameters['temperature'];
  const request: InferenceRequest = {
    model: version.providerModel,
    messages: input.messages,
    maxOutputTokens: input.maxOutputTokens,
    ...(typeof temperature === 'number' && { temperature }),
  };
  return { name: version.name, version, provider, request };
}

// Checked against what the name promises (for an alias, what every target can do), so the answer
// does not depend on the weighted draw.
function checkCapabilities(input: InferInput, resolved: ResolvedModel): void {
  if (hasImage(input.messages) && !resolved.capabilities.vision)
    throw new AppError('PRECONDITION_FAILED', `The model "${resolved.name}" cannot take images`, {
      details: { model: resolved.name, capability: 'vision' },
    });
  if (input.maxOutputTokens > resolved.capabilities.maxOutputTokens)
    throw new AppError('VALIDATION_FAILED', 'The inference request is invalid', {
      fields: [
        {
          field: 'max_output_tokens',
          message: `must be at most ${resolved.capabilities.maxOutputTokens} for "${resolved.name}"`,
        },
      ],
    });
}

/** The answer of `member` (the version that actually answered), priced at its prices. */
export function answerFor(
  prepared: PreparedInference,
  member: ChainMember,
  result: {
    text: string;
    finishReason: InferenceAnswer['finishReason'];
    usage: TokenUsage;
    latencyMs: number;
  },
): InferenceAnswer {
  const { version } = member;
  return {
    inferenceId: prepared.inferenceId,
    modelVersion: version.name,
    provider: member.provider.id,
    text: result.text,
    finishReason: result.finishReason,
    usage: {
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costUsd: microsToUsd(costMicros(result.usage, version)),
      estimated: result.usage.estimated,
    },
    latencyMs: result.latencyMs,
    cached: false,
  };
}

/**
 * Publishes ai.inference.failed, once per inference, naming the version whose error ended it (never
 * hides the original error).
 */
export async function recordFailure(
  prepared: PreparedInference,
  member: ChainMember,
  errorCode: string,
  deps: InferenceDeps,
) {
  try {
    await deps.store.recordFailure(
      inferenceFailed(
        prepared.call,
        {
          inferenceId: prepared.inferenceId,
          model: member.version.name,
          provider: member.provider.id,
          errorCode,
        },
        deps.clock(),
        deps.source,
      ),
    );
  } catch (error) {
    deps.logger.error('could not record a failed inference', { inference_id: prepared.inferenceId, error });
  }
}
