import type { teAiV1 } from '@te/grpc';

/**
 * te.ai.v1 answers in OpenAI's shapes: the model list, `chat.completion` and `chat.completion.chunk`
 * (https://platform.openai.com/docs/api-reference/chat/object). `model` is the version that answered
 * (what the name resolved to, as OpenAI reports the dated snapshot behind an alias); the id is the
 * inference's id, so it matches ai-gateway-service's events and usage records.
 */
export const OWNED_BY = 'te-explico';

type FinishReason = 'stop' | 'length' | 'content_filter';

export function presentModel(model: teAiV1.Model__Output) {
  // `created`: the catalogue does not say when a model was added; 0 stands for "unknown".
  return { id: model.name, object: 'model' as const, created: 0, owned_by: OWNED_BY };
}

export function presentModelList(models: teAiV1.Model__Output[]) {
  return { object: 'list' as const, data: models.map(presentModel) };
}

export const completionId = (inferenceId: string) => `chatcmpl-${inferenceId}`;
export const unixSeconds = () => Math.floor(Date.now() / 1000);

// 'error' (and anything newer) has no OpenAI counterpart: the answer did end, as a stop.
function finishReason(reason: string): FinishReason {
  return reason === 'length' || reason === 'content_filter' ? reason : 'stop';
}

export function presentUsage(usage: teAiV1.Usage__Output | null | undefined) {
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function presentCompletion(answer: teAiV1.InferResponse__Output, created: number) {
  return {
    id: completionId(answer.inferenceId),
    object: 'chat.completion' as const,
    created,
    model: answer.modelVersion,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: answer.text, refusal: null },
        logprobs: null,
        finish_reason: finishReason(answer.finishReason),
      },
    ],
    usage: presentUsage(answer.usage),
  };
}

/** The chunks of one streamed completion; with include_usage every chunk carries `usage: null` but the last. */
export class CompletionChunks {
  private readonly id: string;
  private readonly model: string;

  constructor(
    started: teAiV1.InferStarted__Output,
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {
    this.id = completionId(started.inferenceId);
    this.model = started.modelVersion;
  }

  /** The first chunk: the role, no text yet. */
  role() {
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  content(text: string) {
    return this.chunk({ content: text }, null);
  }

  finish(answer: teAiV1.InferResponse__Output) {
    return this.chunk({}, finishReason(answer.finishReason));
  }

  /** After the finish chunk when include_usage: no choices, the usage of the whole request. */
  usage(answer: teAiV1.InferResponse__Output) {
    return { ...this.base(), choices: [], usage: presentUsage(answer.usage) };
  }

  private chunk(delta: Record<string, string>, reason: FinishReason | null) {
    return {
      ...this.base(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: reason }],
      ...(this.includeUsage && { usage: null }),
    };
  }

  private base() {
    return {
      id: this.id,
      object: 'chat.completion.chunk' as const,
      created: this.created,
      model: this.model,
    };
  }
}
