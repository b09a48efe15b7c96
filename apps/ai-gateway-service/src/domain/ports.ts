import type { EventEnvelope } from '@te/events';
import type { InferenceAnswer } from './inference.js';
import type { ModelAlias, ModelVersion, NewModelVersion, RegistrySnapshot } from './registry.js';
import type { ModelResolver } from './resolve-model.js';

/** Answers kept per (user, request_id) so a retried request is answered once and billed once. */
export interface InferenceStore {
  findAnswer(userId: string, requestId: string, notBefore: Date): Promise<InferenceAnswer | undefined>;
  /**
   * Stores the answer and enqueues its completed event in one transaction. When another call stored
   * an answer for the same key first, nothing is written and that answer is returned instead.
   */
  saveAnswer(
    key: { userId: string; requestId: string; notBefore: Date },
    answer: InferenceAnswer,
    event: EventEnvelope,
  ): Promise<InferenceAnswer>;
  recordFailure(event: EventEnvelope): Promise<void>;
}

/** The registry's writes and its one read; every write enqueues ai.registry.changed. */
export interface RegistryStore {
  snapshot(): Promise<RegistrySnapshot>;
  createVersion(version: NewModelVersion): Promise<ModelVersion>;
  setAliasTargets(alias: string, targets: { version: string; weight: number }[]): Promise<ModelAlias>;
}

/** This replica's view of the registry (cached, refreshed). */
export interface RegistryView {
  resolver(): ModelResolver;
}
