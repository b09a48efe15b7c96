import { AppError } from '@te/platform';
import type { StreamEvent } from '../providers/index.js';
import { saveAnswer } from './infer.use-case.js';
import type { InferInput } from './infer-input.js';
import type { InferenceAnswer } from './inference.js';
import {
  answerFor,
  prepareInference,
  recordFailure,
  type CallerContext,
  type InferenceDeps,
} from './prepare-inference.js';

export type InferenceStreamEvent =
  | { type: 'started'; inferenceId: string; modelVersion: string; provider: string }
  | { type: 'delta'; text: string }
  | { type: 'completed'; answer: InferenceAnswer };

/**
 * InferenceService.InferStream: started → deltas → completed. A repeated request_id replays the
 * stored answer as one delta. When the caller goes away the consumer of this generator returns it:
 * the provider's stream is closed (and ctx.signal aborts its HTTP request) and ai.inference.failed
 * records CANCELLED. A version without streaming answers whole, as one delta.
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
  const { prepared } = outcome;
  const started = performance.now();
  let finished = false;
  try {
    yield {
      type: 'started',
      inferenceId: prepared.inferenceId,
      modelVersion: prepared.resolved.version.name,
      provider: prepared.provider.id,
    };
    const options = { signal: caller.signal, deadline: caller.deadline };
    const events: AsyncIterable<StreamEvent> = prepared.resolved.version.capabilities.streaming
      ? prepared.provider.stream(prepared.request, options)
      : wholeAnswer(prepared.provider.complete(prepared.request, options));
    const chunks: string[] = [];
    let done: Extract<StreamEvent, { type: 'done' }> | undefined;
    for await (const event of events) {
      if (event.type === 'done') done = event;
      else if (event.text) {
        chunks.push(event.text);
        yield { type: 'delta', text: event.text };
      }
    }
    if (!done) throw new AppError('UNAVAILABLE', 'The provider ended the answer early');
    const answer = answerFor(prepared, {
      text: chunks.join(''),
      finishReason: done.finishReason,
      usage: done.usage,
      latencyMs: Math.round(performance.now() - started),
    });
    const saved = await saveAnswer(prepared.call, answer, deps);
    finished = true;
    yield { type: 'completed', answer: saved };
  } catch (error) {
    finished = true;
    await recordFailure(prepared, caller.signal?.aborted ? 'CANCELLED' : AppError.from(error).code, deps);
    throw error;
  } finally {
    // Returned early (the caller cancelled or the deadline passed while we were paused at a yield).
    if (!finished) await recordFailure(prepared, 'CANCELLED', deps);
  }
}

async function* wholeAnswer(
  completion: Promise<{ text: string } & Omit<Extract<StreamEvent, { type: 'done' }>, 'type'>>,
) {
  const result = await completion;
  yield { type: 'delta' as const, text: result.text };
  yield { type: 'done' as const, finishReason: result.finishReason, usage: result.usage };
}
