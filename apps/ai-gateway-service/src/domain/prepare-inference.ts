import { randomUUID } from 'node:crypto';
import { AppError, type Logger } from '@te/platform';
import type { InferenceRequest, ModelProvider, TokenUsage } from '../providers/index.js';
import { costMicros, microsToUsd } from './cost.js';
import { hasImage, validateInferInput, type InferInput } from './infer-input.js';
import { inferenceFailed, type InferenceAnswer, type InferenceCall } from './inference.js';
import type { InferenceStore, RegistryView } from './ports.js';
import type { ResolvedModel } from './resolve-model.js';

/** A request is answered from its stored answer for this long (the contract's idempotency window). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

export interface InferenceDeps {
  registry: RegistryView;
  providers: ReadonlyMap<string, ModelProvider>;
  store: InferenceStore;
  /** Uniform in [0, 1): the alias draw. */
  random: () => number;
  clock: () => Date;
  source: string;
  logger: Logger;
}

/** What the caller's transport gives: who, and when to give up. */
export interface CallerContext {
  userId: string;
  signal?: AbortSignal;
  deadline?: Date;
}

export interface PreparedInference {
  call: InferenceCall;
  inferenceId: string;
  resolved: ResolvedModel;
  provider: ModelProvider;
  request: InferenceRequest;
}

/** Validates, then either finds the stored answer for (user, request_id) or resolves the model. */
export async function prepareInference(
  input: InferInput,
  caller: CallerContext,
  deps: InferenceDeps,
  earlierProblems: Parameters<typeof validateInferInput>[1] = [],
): Promise<{ stored: InferenceAnswer } | { prepared: PreparedInference }> {
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
  const { version } = resolved;
  // resolve() only returns versions whose provider is configured (callable above).
  const provider = deps.providers.get(version.providerId);
  if (!provider) throw new AppError('UNAVAILABLE', `The provider "${version.providerId}" is not configured`);
  const temperature = version.parameters['temperature'];
  return {
    prepared: {
      call: { userId: caller.userId, requestId: input.requestId, metadata: input.metadata },
      inferenceId: randomUUID(),
      resolved,
      provider,
      request: {
        model: version.providerModel,
        messages: input.messages,
        maxOutputTokens: input.maxOutputTokens,
        ...(typeof temperature === 'number' && { temperature }),
      },
    },
  };
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

export function answerFor(
  prepared: PreparedInference,
  result: {
    text: string;
    finishReason: InferenceAnswer['finishReason'];
    usage: TokenUsage;
    latencyMs: number;
  },
): InferenceAnswer {
  const { version } = prepared.resolved;
  return {
    inferenceId: prepared.inferenceId,
    modelVersion: version.name,
    provider: prepared.provider.id,
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

/** Publishes ai.inference.failed for a started inference (never hides the original error). */
export async function recordFailure(prepared: PreparedInference, errorCode: string, deps: InferenceDeps) {
  try {
    await deps.store.recordFailure(
      inferenceFailed(
        prepared.call,
        {
          inferenceId: prepared.inferenceId,
          model: prepared.resolved.version.name,
          provider: prepared.provider.id,
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
