import { AppError, type FieldError } from '@te/platform';
import type { ChatMessage } from '../providers/index.js';
import { validateInferenceRequest } from '../providers/validate-request.js';

/** An InferRequest in plain TypeScript (see grpc/messages.ts for the translation). */
export interface InferInput {
  /** The caller's idempotency key. */
  requestId: string;
  model: string;
  messages: ChatMessage[];
  /** 0: the model's default. */
  maxOutputTokens: number;
  /** Echoed on the ai.inference.* events. */
  metadata: Record<string, string>;
  /** Opt-in exact-match response cache, per user (decision 0020); absent = off. */
  useCache?: boolean;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const MAX_METADATA_ENTRIES = 16;
const MAX_METADATA_KEY = 64;
const MAX_METADATA_VALUE = 512;
const MAX_MODEL_NAME = 200;

/**
 * Every problem of the request at once, as VALIDATION_FAILED with the fields in the contract's
 * snake_case (plus `earlier`: problems the translation from the wire already found).
 */
export function validateInferInput(input: InferInput, earlier: FieldError[] = []): void {
  const fields = [...earlier];
  if (!REQUEST_ID.test(input.requestId))
    fields.push({ field: 'request_id', message: 'is required: 1–128 visible ASCII characters (a UUID)' });
  if (input.model.length > MAX_MODEL_NAME)
    fields.push({ field: 'model', message: `must be at most ${MAX_MODEL_NAME} characters` });
  const entries = Object.entries(input.metadata);
  if (entries.length > MAX_METADATA_ENTRIES)
    fields.push({ field: 'metadata', message: `must have at most ${MAX_METADATA_ENTRIES} entries` });
  for (const [key, value] of entries) {
    if (!key || key.length > MAX_METADATA_KEY)
      fields.push({ field: 'metadata', message: `keys must be 1–${MAX_METADATA_KEY} characters` });
    if (value.length > MAX_METADATA_VALUE)
      fields.push({ field: `metadata.${key}`, message: `must be at most ${MAX_METADATA_VALUE} characters` });
  }
  try {
    validateInferenceRequest({
      model: input.model,
      messages: input.messages,
      maxOutputTokens: input.maxOutputTokens,
    });
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'VALIDATION_FAILED') throw error;
    fields.push(...(error.fields ?? []));
  }
  if (fields.length) throw new AppError('VALIDATION_FAILED', 'The inference request is invalid', { fields });
}

export function hasImage(messages: readonly ChatMessage[]): boolean {
  return messages.some((message) => message.content.some((part) => part.type === 'image'));
}
