import type { teAiV1 } from '@te/grpc';
import type { QueuedInference } from '../domain/queued-inference.js';
import { toInferResponse } from './messages.js';

/** A queued inference as te.ai.v1.InferenceStatus. */
export function toInferenceStatus(inference: QueuedInference): teAiV1.InferenceStatus {
  return {
    requestId: inference.requestId,
    status: inference.status,
    response: inference.answer ? toInferResponse(inference.answer) : null,
    error: inference.error ?? null,
    submittedAt: inference.createdAt.toISOString(),
    finishedAt: inference.finishedAt?.toISOString() ?? '',
  };
}
