import type { EventEnvelope } from '@te/events';
import type { ChatMessage } from '../providers/index.js';
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

/** What the response cache keeps of a complete answer (decision 0020). */
export interface CachedAnswer {
  text: string;
  /** Only complete answers are kept: "stop" or "length". */
  finishReason: 'stop' | 'length';
  /** The usage of the call that produced the answer (a hit itself is billed as zero). */
  usage: { inputTokens: number; outputTokens: number; estimated: boolean };
  modelVersion: string;
  provider: string;
}

/** What an answer is cached under: the same user asking the same name the same thing. */
export interface ResponseCacheRequest {
  userId: string;
  /** The name as asked (alias or version), not the drawn version. */
  model: string;
  maxOutputTokens: number;
  messages: readonly ChatMessage[];
}

/** The opt-in exact-match response cache, per user. An outage is a miss, never an error. */
export interface ResponseCache {
  get(request: ResponseCacheRequest): Promise<CachedAnswer | undefined>;
  /** False when the answer was not stored (too big, not complete, cache unavailable). */
  put(request: ResponseCacheRequest, answer: CachedAnswer): Promise<boolean>;
  /** Erases every entry of a user (user.deleted); throws when it could not, so erasure is retried. */
  forgetUser(userId: string): Promise<number>;
}

/** Tokens held for one inference until it is settled or released (or its hold expires). */
export interface TokenReservation {
  readonly id: string;
  readonly userId: string;
  /** The budget window it counts against ("2026-06-01", a UTC day). */
  readonly window: string;
  readonly tokens: number;
  /** False when the budget could not be checked (unlimited, or Redis unavailable: fail-open). */
  readonly enforced: boolean;
}

/** Per-user token budgets: reserve before the provider call, settle (or release) after it. */
export interface TokenBudget {
  /** Holds `tokens`; RATE_LIMITED (retry-after) when the user's window has no room for them. */
  reserve(userId: string, tokens: number): Promise<TokenReservation>;
  /** Replaces the hold by what the call really used. */
  settle(reservation: TokenReservation, usedTokens: number): Promise<void>;
  /** Drops the hold (the call failed or was cancelled): nothing is counted. */
  release(reservation: TokenReservation): Promise<void>;
  /** Erases a user's windows and holds (user.deleted); throws when it could not, so erasure is retried. */
  forgetUser(userId: string): Promise<number>;
}
