import type { teAiV1 } from '@te/grpc';
import { invalidParam } from '../http/openai-errors.js';

export type ContentPart = teAiV1.ContentPart;

/** What a message may hold: system/developer text only; user text and images; assistant text or refusals. */
export type ContentKind = 'text' | 'user' | 'assistant';

const MAX_PARTS = 100;

// An inline image. Remote URLs are never fetched (no server-side request forgery, no slow third
// party inside an inference): the client sends the bytes.
const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]+={0,2})$/i;
const MEDIA_TYPES: Record<string, ImageType> = {
  'image/png': 'image/png',
  'image/jpeg': 'image/jpeg',
  'image/jpg': 'image/jpeg',
  'image/webp': 'image/webp',
};
type ImageType = 'image/png' | 'image/jpeg' | 'image/webp';

/** An OpenAI message's `content` (a string or an array of parts) as te.ai.v1 content parts. */
export function toContentParts(content: unknown, at: string, kind: ContentKind): ContentPart[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) throw invalidParam(at, 'must be a string or an array of content parts');
  if (content.length === 0) throw invalidParam(at, 'must not be empty');
  if (content.length > MAX_PARTS) throw invalidParam(at, `must have at most ${MAX_PARTS} parts`);
  return content.map((part, index) => toPart(part, `${at}[${index}]`, kind));
}

function toPart(raw: unknown, at: string, kind: ContentKind): ContentPart {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidParam(at, 'must be a content part object');
  const part = raw as Record<string, unknown>;
  if (part.type === 'text') {
    if (typeof part.text !== 'string') throw invalidParam(`${at}.text`, 'must be a string');
    return { text: part.text };
  }
  if (part.type === 'refusal' && kind === 'assistant') {
    if (typeof part.refusal !== 'string') throw invalidParam(`${at}.refusal`, 'must be a string');
    return { text: part.refusal };
  }
  if (part.type === 'image_url' && kind === 'user')
    return { image: toImage(part.image_url, `${at}.image_url`) };
  const allowed =
    kind === 'user' ? "'text' or 'image_url'" : kind === 'assistant' ? "'text' or 'refusal'" : "'text'";
  throw invalidParam(`${at}.type`, `must be ${allowed} in this message`, 'unsupported_value');
}

function toImage(imageUrl: unknown, at: string): teAiV1.Image {
  const url =
    typeof imageUrl === 'object' && imageUrl !== null ? (imageUrl as { url?: unknown }).url : undefined;
  if (typeof url !== 'string') throw invalidParam(`${at}.url`, 'must be a string');
  if (/^https?:/i.test(url))
    throw invalidParam(
      `${at}.url`,
      'remote image URLs are not fetched by this server; send the image inline as a data URL (data:image/png;base64,…)',
      'invalid_image_url',
    );
  const match = DATA_URL.exec(url);
  if (!match)
    throw invalidParam(
      `${at}.url`,
      'must be a base64 data URL (data:image/png;base64,…)',
      'invalid_image_url',
    );
  const mediaType = MEDIA_TYPES[match[1].toLowerCase()];
  if (!mediaType)
    throw invalidParam(
      `${at}.url`,
      `must be a PNG, JPEG or WebP image, not ${match[1]}`,
      'invalid_image_format',
    );
  const data = Buffer.from(match[2], 'base64');
  if (!hasSignature(data, mediaType))
    throw invalidParam(`${at}.url`, `is not a valid ${mediaType} image`, 'invalid_image_format');
  return { mediaType, data };
}

// The first bytes of each format, so a mislabelled or corrupt image is the client's 400 here rather
// than a provider's error later.
function hasSignature(data: Buffer, mediaType: ImageType): boolean {
  switch (mediaType) {
    case 'image/png':
      return data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    case 'image/jpeg':
      return data.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]));
    case 'image/webp':
      return (
        data.subarray(0, 4).toString('latin1') === 'RIFF' &&
        data.subarray(8, 12).toString('latin1') === 'WEBP'
      );
  }
}
