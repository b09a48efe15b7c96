import type { teAiV1 } from '@te/grpc';
import type { FieldError } from '@te/platform';
import type { InferInput } from '../domain/infer-input.js';
import type { InferenceAnswer } from '../domain/inference.js';
import type { CatalogEntry } from '../domain/resolve-model.js';
import type { ChatMessage, ChatRole, ContentPart, ImageMediaType } from '../providers/index.js';

/**
 * te.ai.v1 wire shapes ↔ the domain's. A content part that is neither text nor image cannot be
 * expressed in the domain, so it is returned as a field problem for the validation to list with
 * the others.
 */
export function toInferInput(request: teAiV1.InferRequest__Output): {
  input: InferInput;
  problems: FieldError[];
} {
  const problems: FieldError[] = [];
  const messages: ChatMessage[] = request.messages.map((message, index) => ({
    role: message.role as ChatRole,
    content: message.content.flatMap((part, partIndex): ContentPart[] => {
      if (part.part === 'text') return [{ type: 'text', text: part.text ?? '' }];
      if (part.part === 'image' && part.image)
        return [
          {
            type: 'image',
            mediaType: part.image.mediaType as ImageMediaType,
            data: new Uint8Array(part.image.data),
          },
        ];
      problems.push({
        field: `messages[${index}].content[${partIndex}]`,
        message: 'must be text or an image',
      });
      return [];
    }),
  }));
  return {
    input: {
      requestId: request.requestId,
      model: request.model,
      messages,
      maxOutputTokens: request.maxOutputTokens,
      metadata: { ...request.metadata },
      useCache: request.useCache,
    },
    problems,
  };
}

export function toInferResponse(answer: InferenceAnswer): teAiV1.InferResponse {
  return {
    inferenceId: answer.inferenceId,
    modelVersion: answer.modelVersion,
    provider: answer.provider,
    text: answer.text,
    finishReason: answer.finishReason,
    usage: {
      inputTokens: answer.usage.inputTokens,
      outputTokens: answer.usage.outputTokens,
      costUsd: answer.usage.costUsd,
      estimated: answer.usage.estimated,
    },
    latencyMs: String(answer.latencyMs),
    cached: answer.cached,
  };
}

export function toModel(entry: CatalogEntry): teAiV1.Model {
  return {
    name: entry.name,
    kind: entry.kind,
    capabilities: { ...entry.capabilities },
    deprecatedAt: entry.deprecatedAt?.toISOString() ?? '',
    retiresAt: entry.retiresAt?.toISOString() ?? '',
  };
}
