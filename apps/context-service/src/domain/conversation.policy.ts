import type { FieldError } from '@te/platform';
import { MESSAGE_MODES, type MessageMode } from './conversation.js';

/**
 * What a user may put in a session and a message. Every check returns the problems it found, so one
 * VALIDATION_FAILED names every bad field at once.
 */
export const TITLE_MAX_LENGTH = 200;
/** Settings serialised as JSON, in UTF-8 bytes. */
export const SETTINGS_MAX_BYTES = 16 * 1024;
export const CONTENT_MAX_LENGTH = 32_000;
export const MODEL_MAX_LENGTH = 100;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Control characters other than tab, line feed and carriage return break titles in UIs and logs.
const TITLE_CONTROL = /[\p{Cc}]/u;
const MODEL_NAME = /^[A-Za-z0-9._:/-]+$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Lengths count Unicode code points (what a person counts), not UTF-16 units. */
function length(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

export function idProblems(id: string, field = 'id'): FieldError[] {
  return isUuid(id) ? [] : [{ field, message: 'must be a UUID' }];
}

/** Titles are stored trimmed and NFC-normalised. */
export function normaliseTitle(raw: string): string {
  return raw.normalize('NFC').trim();
}

export function titleProblems(title: string): FieldError[] {
  if (!title.isWellFormed()) return [{ field: 'title', message: 'must be valid Unicode text' }];
  if (length(title) > TITLE_MAX_LENGTH)
    return [{ field: 'title', message: `must be at most ${TITLE_MAX_LENGTH} characters` }];
  if (TITLE_CONTROL.test(title)) return [{ field: 'title', message: 'must not contain control characters' }];
  return [];
}

/** Parses settings sent as JSON text; the problems name `settings`. */
export function parseSettings(json: string): { settings?: Record<string, unknown>; problems: FieldError[] } {
  if (Buffer.byteLength(json, 'utf8') > SETTINGS_MAX_BYTES)
    return {
      problems: [{ field: 'settings', message: `must be at most ${SETTINGS_MAX_BYTES} bytes as JSON` }],
    };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problems: [{ field: 'settings', message: 'must be a JSON object' }] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problems: [{ field: 'settings', message: 'must be a JSON object' }] };
  return { settings: value as Record<string, unknown>, problems: [] };
}

export function contentProblems(content: string): FieldError[] {
  if (content.trim().length === 0) return [{ field: 'content', message: 'must not be empty' }];
  if (!content.isWellFormed()) return [{ field: 'content', message: 'must be valid Unicode text' }];
  if (length(content) > CONTENT_MAX_LENGTH)
    return [{ field: 'content', message: `must be at most ${CONTENT_MAX_LENGTH} characters` }];
  return [];
}

/** An empty mode is the default, `sync`. */
export function parseMode(raw: string): { mode?: MessageMode; problems: FieldError[] } {
  const mode = raw === '' ? 'sync' : raw;
  return (MESSAGE_MODES as readonly string[]).includes(mode)
    ? { mode: mode as MessageMode, problems: [] }
    : { problems: [{ field: 'mode', message: `must be one of ${MESSAGE_MODES.join(', ')}` }] };
}

export function modelProblems(model: string): FieldError[] {
  if (model === '') return [];
  if (model.length > MODEL_MAX_LENGTH || !MODEL_NAME.test(model))
    return [
      {
        field: 'model',
        message: `must be at most ${MODEL_MAX_LENGTH} letters, digits or . _ : / -`,
      },
    ];
  return [];
}

/** Shape only; whether each id is an attachment of the session is checked against the database. */
export function attachmentIdsProblems(ids: string[]): FieldError[] {
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE)
    return [{ field: 'attachment_ids', message: `must list at most ${MAX_ATTACHMENTS_PER_MESSAGE} ids` }];
  const problems = ids.flatMap((id, index) =>
    isUuid(id) ? [] : [{ field: `attachment_ids[${index}]`, message: 'must be a UUID' }],
  );
  if (problems.length === 0 && new Set(ids.map((id) => id.toLowerCase())).size !== ids.length)
    problems.push({ field: 'attachment_ids', message: 'must not repeat an id' });
  return problems;
}
