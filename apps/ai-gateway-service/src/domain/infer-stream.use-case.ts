import { AppError } from '@te/platform';
import { replayChunks } from '../cache/replay-chunks.js';
import type { CallOptions, StreamEvent } from '../providers/index.js';
import { cacheAnswer } from './cache-and-budget.js';
import { failureCode, saveAnswer } from './infer.use-case.js';
import type { InferInput } from './infer-input.js';
import type { InferenceAnswer } from './inference.js';
import {
  answerFor,
  prepareInference,
  recordFailure,
  type CallerContext,
  type ChainMember,
  type InferenceDeps,
} from './prepare-inference.js';

export type InferenceStreamEvent =
  | { type: 'started'; inferenceId: string; modelVersion: string; provider: string }
  | { type: 'delta'; text: string }
  | { type: 'completed'; answer: InferenceAnswer };

/**
 * InferenceService.InferStream: started → deltas → completed. A repeated request_id replays the
 * stored answer as one delta; a response cache hit (use_cache) is saved as this inference's answer
 * and replayed as a few deltas, completed with cached=true. The token budget is held before the
 * provider is called and settled when the stream ends (decision 0020); a completed answer is cached
 * when the caller opted in. The chain's versions are tried through the resilience layer until one
 * produces its first event; `started` is sent then, naming the version that answers, and from then on
 * a failure ends the stream (nothing is retried once the caller may have seen part of an answer).
 * When the caller goes away the consumer of this generator returns it: the provider's stream is
 * closed (and ctx.signal aborts its HTTP request) and ai.inference.failed records CANCELLED. A
 * version without streaming answers whole, as one delta.
 */
export async function* inferStream(
  input: InferInput,
  caller: CallerContext,
  deps: InferenceDeps,
  earlierProblems: Parameters<typeof prepareInference>[3] = [],
): AsyncGenerator<InferenceStreamEvent> {
  const outcome = await prepareInference(input, caller, deps, earlierProblems);
  if ('stored' in outcome) {
    const { stored } = outcome;
    yield {
      type: 'started',
      inferenceId: stored.inferenceId,
      modelVersion: stored.modelVersion,
      provider: stored.provider,
    };
    yield { type: 'delta', text: stored.text };
    yield { type: 'completed', answer: stored };
    return;
  }
  if ('cached' in outcome) {
    const answer = await saveAnswer(outcome.call, outcome.cached, deps);
    yield {
      type: 'started',
      inferenceId: answer.inferenceId,
      modelVersion: answer.modelVersion,
      provider: answer.provider,
    };
    for (const text of replayChunks(answer.text)) yield { type: 'delta', text };
    yield { type: 'completed', answer };
    return;
  }
  const { prepared } = outcome;
  const progress = { current: prepared.chain[0] };
  const started = performance.now();
  const chunks: string[] = [];
  let finished = false;
  try {
    // The provider call: retries, breakers, concurrency limits and fallback along the chain until
    // the first event.
    const events = deps.resilience.stream(
      prepared.chain,
      { signal: caller.signal, deadline: caller.deadline },
      progress,
      openStream,
    );
    let answering: ChainMember | undefined;
    let done: Extract<StreamEvent, { type: 'done' }> | undefined;
    for await (const { candidate, event } of events) {
      if (!answering) {
        answering = candidate;
        yield {
          type: 'started',
          inferenceId: prepared.inferenceId,
          modelVersion: candidate.version.name,
          provider: candidate.provider.id,
        };
      }
      if (event.type === 'done') done = event;
      else if (event.text) {
        chunks.push(event.text);
        yield { type: 'delta', text: event.text };
      }
    }
    if (!answering || !done) throw new AppError('UNAVAILABLE', 'The provider ended the answer early');
    const answer = answerFor(prepared, answering, {
      text: chunks.join(''),
      finishReason: done.finishReason,
      usage: done.usage,
      latencyMs: Math.round(performance.now() - started),
    });
    await prepared.budget.settle(answer.usage);
    const saved = await saveAnswer(prepared.call, answer, deps);
    await cacheAnswer(prepared.cacheRequest, saved, deps);
    finished = true;
    yield { type: 'completed', answer: saved };
  } catch (error) {
    finished = true;
    await prepared.budget.abandon(chunks.join(''));
    await recordFailure(prepared, progress.current, failureCode(error, caller), deps);
    throw error;
  } finally {
    // Returned early (the caller cancelled or the deadline passed while we were paused at a yield).
    if (!finished) {
      await prepared.budget.abandon(chunks.join(''));
      await recordFailure(prepared, progress.current, 'CANCELLED', deps);
    }
  }
}

/** A version's events: its provider's stream, or its whole answer as one delta when it cannot stream. */
function openStream(member: ChainMember, call: CallOptions): AsyncIterable<StreamEvent> {
  return member.version.capabilities.streaming
    ? member.provider.stream(member.request, call)
    : wholeAnswer(member.provider.complete(member.request, call));
}

async function* wholeAnswer(
  completion: Promise<{ text: string } & Omit<Extract<StreamEvent, { type: 'done' }>, 'type'>>,
) {
  const result = await completion;
  yield { type: 'delta' as const, text: result.text };
  yield { type: 'done' as const, finishReason: result.finishReason, usage: result.usage };
}
