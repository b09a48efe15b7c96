import { createEvent, type EventEnvelope } from '@te/events';
import type { InferInput } from './infer-input.js';
import type { InferenceAnswer } from './inference.js';

/**
 * The work item of a queued inference: its key only (the request waits in PostgreSQL). Deliberately not
 * under `ai.inference.*`, so consumers of the outcome events never receive jobs.
 */
export const AI_INFERENCE_JOB_REQUESTED = 'ai.inference_job.requested';

export type QueuedInferenceStatus = 'queued' | 'running' | 'completed' | 'failed';

/** An inference submitted with SubmitInference, as GetInference reports it. */
export interface QueuedInference {
  userId: string;
  requestId: string;
  /** The name as asked (alias or version). */
  model: string;
  status: QueuedInferenceStatus;
  /** InferRequest.metadata, echoed on the events. */
  metadata: Record<string, string>;
  /** When completed. */
  answer?: InferenceAnswer;
  /** When failed. */
  error?: { code: string; message: string };
  /** Deliveries of its job that started it. */
  attempts: number;
  createdAt: Date;
  finishedAt?: Date;
}

/** What a worker runs: the stored request, with its key. */
export interface ClaimedInference {
  inference: QueuedInference;
  input: InferInput;
}

export interface InferenceRequestedData {
  user_id: string;
  request_id: string;
  requested_at: string;
}

export function inferenceRequested(
  key: { userId: string; requestId: string },
  requestedAt: Date,
  source: string,
): EventEnvelope<InferenceRequestedData> {
  return createEvent<InferenceRequestedData>({
    type: AI_INFERENCE_JOB_REQUESTED,
    source,
    subject: key.userId,
    data: { user_id: key.userId, request_id: key.requestId, requested_at: requestedAt.toISOString() },
  });
}

/** Queued inferences and their settlement; each settling write is conditional, so it happens once. */
export interface QueuedInferenceStore {
  /** The caller's inference for request_id, submitted at or after `notBefore`. */
  find(userId: string, requestId: string, notBefore: Date): Promise<QueuedInference | undefined>;
  /**
   * Stores a new queued inference and enqueues its job (`event`) in one transaction; an older one
   * with the same key (before `notBefore`) is replaced. When another call stored one first, nothing
   * is written and that one is returned.
   */
  enqueue(input: InferInput, userId: string, notBefore: Date, event: EventEnvelope): Promise<QueuedInference>;
  /** Stores an inference already answered (request_id used by Infer before): no job. */
  saveCompleted(input: InferInput, userId: string, answer: InferenceAnswer): Promise<QueuedInference>;
  /** Marks a queued or running inference running (one more attempt) and returns its request; else undefined. */
  claim(userId: string, requestId: string, now: Date): Promise<ClaimedInference | undefined>;
  /**
   * Queued/running → completed with the answer (the request is cleared), writing `events` in the same
   * transaction. False when it was already settled (then nothing is written).
   */
  complete(
    key: { userId: string; requestId: string },
    answer: InferenceAnswer,
    events: EventEnvelope[],
    now: Date,
  ): Promise<boolean>;
  /** Queued/running → failed (the request is cleared) with `events` in the same transaction; false when already settled. */
  fail(
    key: { userId: string; requestId: string },
    error: { code: string; message: string },
    events: EventEnvelope[],
    now: Date,
  ): Promise<boolean>;
  /** Queued or running inferences submitted before `submittedBefore` (oldest first). */
  listUnsettled(submittedBefore: Date, limit: number): Promise<QueuedInference[]>;
  /** Drops inferences submitted before `notBefore` (the idempotency window has passed). */
  purgeOlderThan(notBefore: Date): Promise<number>;
}
