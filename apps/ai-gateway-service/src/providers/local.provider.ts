import { setImmediate as nextTurn } from 'node:timers/promises';
import { CallControl } from './call-control.js';
import { answerExtractively } from './extractive-answer.js';
import type { LocalProviderSettings } from './provider-config.js';
import type {
  CallOptions,
  Completion,
  FinishReason,
  InferenceRequest,
  ModelProvider,
  StreamEvent,
} from './provider.js';
import { estimateInputTokens, estimateTextTokens } from './token-estimate.js';
import { validateInferenceRequest } from './validate-request.js';

/**
 * Built in, offline, no key: a fresh `npm start` answers questions. It is an extractive explainer
 * (see extractive-answer.ts), not a language model, and every answer says so. Usage is estimated.
 */
export class LocalProvider implements ModelProvider {
  readonly kind = 'local' as const;
  readonly id: string;

  constructor(settings: Pick<LocalProviderSettings, 'id'> = { id: 'local' }) {
    this.id = settings.id;
  }

  async complete(request: InferenceRequest, options: CallOptions = {}): Promise<Completion> {
    const started = performance.now();
    const chunks: string[] = [];
    let done: Extract<StreamEvent, { type: 'done' }> = {
      type: 'done',
      finishReason: 'stop',
      usage: { inputTokens: 0, outputTokens: 0, estimated: true },
    };
    for await (const event of this.stream(request, options)) {
      if (event.type === 'delta') chunks.push(event.text);
      else done = event;
    }
    return {
      text: chunks.join(''),
      finishReason: done.finishReason,
      usage: done.usage,
      providerModel: request.model,
      latencyMs: Math.round(performance.now() - started),
    };
  }

  async *stream(request: InferenceRequest, options: CallOptions = {}): AsyncGenerator<StreamEvent> {
    validateInferenceRequest(request);
    const control = new CallControl(this.id, options, Infinity);
    try {
      const { text, finishReason } = limit(
        answerExtractively(request.messages).text,
        request.maxOutputTokens,
      );
      for (const word of text.match(/\S+\s*/g) ?? []) {
        // A turn of the event loop per word: cancellation and deadlines apply mid-answer.
        await nextTurn(undefined, { signal: control.signal });
        yield { type: 'delta', text: word };
      }
      yield {
        type: 'done',
        finishReason,
        usage: {
          inputTokens: estimateInputTokens(request.messages),
          outputTokens: estimateTextTokens(text),
          estimated: true,
        },
      };
    } catch (error) {
      throw control.classify(error);
    } finally {
      control.dispose();
    }
  }
}

// max_output_tokens in estimated tokens: the answer is cut at a word boundary, finish_reason "length".
function limit(text: string, maxOutputTokens: number): { text: string; finishReason: FinishReason } {
  if (maxOutputTokens <= 0 || estimateTextTokens(text) <= maxOutputTokens)
    return { text, finishReason: 'stop' };
  let cut = text.slice(0, maxOutputTokens * 4);
  const space = cut.search(/\s\S*$/);
  if (space > 0) cut = cut.slice(0, space);
  return { text: cut, finishReason: 'length' };
}
