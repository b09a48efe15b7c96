import { AppError, type FieldError } from '@te/platform';
import type { Cursor } from './conversation.js';
import { isUuid } from './conversation.policy.js';

export const MAX_PAGE_SIZE = 100;

/**
 * Validates a page request. The page token is opaque to clients: base64url of the last row's
 * creation time and id, a keyset cursor (stable while rows are added; no OFFSET scans).
 */
export function readPageRequest(
  input: { pageSize: number; pageToken: string },
  defaultSize: number,
): { limit: number; after?: Cursor } {
  const problems: FieldError[] = [];
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > MAX_PAGE_SIZE) {
    problems.push({ field: 'page_size', message: `must be between 1 and ${MAX_PAGE_SIZE}` });
  }
  const after = input.pageToken === '' ? undefined : decodeCursor(input.pageToken);
  if (after === null) problems.push({ field: 'page_token', message: 'is not a valid page token' });
  if (problems.length) throw new AppError('VALIDATION_FAILED', 'Invalid page request', { fields: problems });
  return { limit: input.pageSize || defaultSize, ...(after && { after }) };
}

/** `rows` were fetched with `limit + 1`: the extra row only tells that another page exists. */
export function toPage<T extends Cursor>(rows: T[], limit: number): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextPageToken: rows.length > limit && last ? encodeCursor(last) : '' };
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), id: cursor.id })).toString(
    'base64url',
  );
}

/** null: not a token this service made. */
export function decodeCursor(token: string): Cursor | null {
  if (token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      t?: unknown;
      id?: unknown;
    };
    if (typeof parsed.t !== 'string' || typeof parsed.id !== 'string' || !isUuid(parsed.id)) return null;
    const createdAt = new Date(parsed.t);
    return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id: parsed.id.toLowerCase() };
  } catch {
    return null;
  }
}
