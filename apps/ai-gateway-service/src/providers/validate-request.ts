import { AppError, type FieldError } from '@te/platform';
import { IMAGE_MEDIA_TYPES, type InferenceRequest } from './provider.js';

/**
 * Checks a request before any provider sees it, so a bad one is VALIDATION_FAILED with every field
 * listed (and never a provider's 400 with its own wording, or a 5xx).
 */
export function validateInferenceRequest(request: InferenceRequest): void {
  const fields: FieldError[] = [];
  if (!request.model?.trim()) fields.push({ field: 'model', message: 'is required' });
  if (!Number.isInteger(request.maxOutputTokens) || request.maxOutputTokens < 0)
    fields.push({ field: 'max_output_tokens', message: 'must be a whole number, 0 or more' });
  if (request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2))
    fields.push({ field: 'temperature', message: 'must be between 0 and 2' });
  if (!request.messages?.length) fields.push({ field: 'messages', message: 'must not be empty' });
  request.messages?.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (!['system', 'user', 'assistant'].includes(message.role))
      fields.push({ field: `${at}.role`, message: 'must be system, user or assistant' });
    if (message.role === 'system' && index !== 0)
      fields.push({ field: `${at}.role`, message: 'a system message may only come first' });
    if (!message.content?.length) fields.push({ field: `${at}.content`, message: 'must not be empty' });
    message.content?.forEach((part, partIndex) => {
      if (part.type !== 'image') return;
      const partAt = `${at}.content[${partIndex}].image`;
      if (message.role !== 'user')
        fields.push({ field: partAt, message: 'images may only be in user messages' });
      if (!(IMAGE_MEDIA_TYPES as readonly string[]).includes(part.mediaType))
        fields.push({
          field: `${partAt}.media_type`,
          message: `must be one of ${IMAGE_MEDIA_TYPES.join(', ')}`,
        });
      if (!part.data?.length) fields.push({ field: `${partAt}.data`, message: 'must not be empty' });
    });
  });
  if (fields.length) throw new AppError('VALIDATION_FAILED', 'The inference request is invalid', { fields });
}
