import { createHash } from 'node:crypto';
import type { ResponseCacheRequest } from '../domain/ports.js';

/** Bumped when what goes into the key changes, so old entries are never read with a new meaning. */
const KEY_SCHEMA = 'v1';

/** Every cached answer of a user lives under this prefix (erasure: SCAN MATCH `<prefix>*`, UNLINK). */
export function userCachePrefix(userId: string): string {
  return `ai-cache:${userId}:`;
}

/**
 * `ai-cache:<user>:<sha256>` over, in an unambiguous JSON array: the user, the model name as asked,
 * max_output_tokens and every message (role, and each part's text or image media type + SHA-256 of
 * its bytes). Nothing else decides the answer: the version's parameters follow from the name (see
 * decision 0020 on keying by name rather than by drawn version).
 */
export function responseCacheKey(request: ResponseCacheRequest): string {
  const messages = request.messages.map((message) => [
    message.role,
    message.content.map((part) =>
      part.type === 'text'
        ? ['text', part.text]
        : ['image', part.mediaType, createHash('sha256').update(part.data).digest('hex')],
    ),
  ]);
  const canonical = JSON.stringify([
    KEY_SCHEMA,
    request.userId,
    request.model,
    request.maxOutputTokens,
    messages,
  ]);
  return `${userCachePrefix(request.userId)}${createHash('sha256').update(canonical).digest('hex')}`;
}
