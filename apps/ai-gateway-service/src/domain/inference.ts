import type { EventEnvelope } from '@te/events';
import { createEvent } from '@te/events';
import type { FinishReason } from '../providers/index.js';

export const AI_INFERENCE_COMPLETED = 'ai.inference.completed';
export const AI_INFERENCE_FAILED = 'ai.inference.failed';

/** An answer as the contract's InferResponse carries it; also what is stored for request_id. */
export interface InferenceAnswer {
  inferenceId: string;
  /** "<model>@<version>". */
  modelVersion: string;
  provider: string;
  text: string;
  finishReason: FinishReason;
  usage: { inputTokens: number; outputTokens: number; costUsd: string; estimated: boolean };
  latencyMs: number;
  /** True when answered from the response cache (decision 0020): no provider call, usage 0. */
  cached: boolean;
}

/** Who asked, and the request the events echo. */
export interface InferenceCall {
  userId: string;
  requestId: string;
  metadata: Record<string, string>;
}

/** docs/events.md `ai.inference.completed`: user-service's usage fields first, then the gateway's own. */
export interface InferenceCompletedData {
  user_id: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  completed_at: string;
  inference_id: string;
  request_id: string;
  provider: string;
  latency_ms: number;
  finish_reason: FinishReason;
  estimated_usage: boolean;
  metadata: Record<string, string>;
  /** Present (true) only on an answer from the response cache: no provider call, zero tokens and cost. */
  cached?: true;
}

export interface InferenceFailedData {
  inference_id: string;
  request_id: string;
  user_id: string;
  model: string;
  provider: string;
  /** An AppError code, or CANCELLED when the caller went away. */
  error_code: string;
  failed_at: string;
  metadata: Record<string, string>;
}

export function inferenceCompleted(
  call: InferenceCall,
  answer: InferenceAnswer,
  completedAt: Date,
  source: string,
): EventEnvelope<InferenceCompletedData> {
  return createEvent<InferenceCompletedData>({
    type: AI_INFERENCE_COMPLETED,
    source,
    subject: call.userId,
    data: {
      user_id: call.userId,
      model: answer.modelVersion,
      input_tokens: answer.usage.inputTokens,
      output_tokens: answer.usage.outputTokens,
      cost_usd: answer.usage.costUsd,
      completed_at: completedAt.toISOString(),
      inference_id: answer.inferenceId,
      request_id: call.requestId,
      provider: answer.provider,
      latency_ms: answer.latencyMs,
      finish_reason: answer.finishReason,
      estimated_usage: answer.usage.estimated,
      metadata: call.metadata,
      ...(answer.cached && { cached: true as const }),
    },
  });
}

export function inferenceFailed(
  call: InferenceCall,
  attempt: { inferenceId: string; model: string; provider: string; errorCode: string },
  failedAt: Date,
  source: string,
): EventEnvelope<InferenceFailedData> {
  return createEvent<InferenceFailedData>({
    type: AI_INFERENCE_FAILED,
    source,
    subject: call.userId,
    data: {
      inference_id: attempt.inferenceId,
      request_id: call.requestId,
      user_id: call.userId,
      model: attempt.model,
      provider: attempt.provider,
      error_code: attempt.errorCode,
      failed_at: failedAt.toISOString(),
      metadata: call.metadata,
    },
  });
}
