import { AppError, type FieldError } from '@te/platform';
import type { RecordedSecurityEvent, SecurityAudit } from './security-audit.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export interface SecurityEventPage {
  events: RecordedSecurityEvent[];
  /** Empty when there is no further page. */
  nextPageToken: string;
}

/**
 * The caller's security audit log, newest first, in pages. The page token is opaque to clients
 * (base64url of the last row's time and id, a keyset cursor: stable while new events arrive).
 */
export async function listSecurityEvents(
  input: { userId: string; pageSize: number; pageToken: string },
  deps: { audit: SecurityAudit },
): Promise<SecurityEventPage> {
  const problems: FieldError[] = [];
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > MAX_PAGE_SIZE) {
    problems.push({ field: 'page_size', message: `must be between 1 and ${MAX_PAGE_SIZE}` });
  }
  const before = input.pageToken === '' ? undefined : decodeCursor(input.pageToken);
  if (before === null) problems.push({ field: 'page_token', message: 'is not a valid page token' });
  if (problems.length) throw new AppError('VALIDATION_FAILED', 'Invalid page request', { fields: problems });

  const limit = input.pageSize || DEFAULT_PAGE_SIZE;
  // One row more than asked tells whether another page exists.
  const rows = await deps.audit.list(input.userId, { limit: limit + 1, before: before ?? undefined });
  const events = rows.slice(0, limit);
  const last = events.at(-1);
  return {
    events,
    nextPageToken:
      rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : '',
  };
}

function encodeCursor(cursor: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), id: cursor.id })).toString(
    'base64url',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** null: not a token this service made. */
function decodeCursor(token: string): { createdAt: Date; id: string } | null {
  if (token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      t?: unknown;
      id?: unknown;
    };
    if (typeof parsed.t !== 'string' || typeof parsed.id !== 'string' || !UUID.test(parsed.id)) return null;
    const createdAt = new Date(parsed.t);
    return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id: parsed.id };
  } catch {
    return null;
  }
}
