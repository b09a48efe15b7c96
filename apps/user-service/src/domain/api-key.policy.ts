import { AppError, isScope, type FieldError } from '@te/platform';
import { API_KEY_LIMITS } from './api-key.js';

export interface ApiKeyRequest {
  name: string;
  scopes: string[];
  /** RFC 3339, or '' for a key without expiry. */
  expiresAt: string;
}

export interface ValidApiKeyRequest {
  name: string;
  scopes: string[];
  expiresAt: Date | null;
}

// Control characters (Unicode Cc) have no place in a label shown in UIs and logs.
const CONTROL_CHARACTERS = /\p{Cc}/u;
// RFC 3339 date-time (§5.6): an explicit offset is required, so "in the future" means one instant.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const DAY_MS = 24 * 3600_000;

/**
 * Checks what a caller asks for, reporting every bad field at once: a name of 1–100 characters, at
 * least one known scope, an expiry in the future and at most a year ahead. Then the scopes must be
 * ones the caller holds (`grantable`), else PERMISSION_DENIED naming them: a key can never do more
 * than the credential that made it (least privilege, OWASP REST Security cheat sheet).
 */
export function validateApiKeyRequest(
  request: ApiKeyRequest,
  grantable: ReadonlySet<string>,
  now: Date,
): ValidApiKeyRequest {
  const problems: FieldError[] = [];
  const name = request.name.normalize('NFKC').trim();
  const nameLength = [...name].length;
  if (!request.name.isWellFormed()) problems.push({ field: 'name', message: 'must be valid Unicode text' });
  else if (nameLength === 0) problems.push({ field: 'name', message: 'is required' });
  else if (nameLength > API_KEY_LIMITS.nameMaxLength)
    problems.push({ field: 'name', message: `must be at most ${API_KEY_LIMITS.nameMaxLength} characters` });
  else if (CONTROL_CHARACTERS.test(name))
    problems.push({ field: 'name', message: 'must not contain control characters' });

  if (request.scopes.length === 0)
    problems.push({ field: 'scopes', message: 'must list at least one scope' });
  request.scopes.forEach((scope, index) => {
    if (!isScope(scope)) problems.push({ field: `scopes[${index}]`, message: 'is not a known scope' });
  });

  const expiresAt = parseExpiry(request.expiresAt, now, problems);
  if (problems.length)
    throw new AppError('VALIDATION_FAILED', 'API key request is invalid', { fields: problems });

  const denied = request.scopes.flatMap((scope, index) =>
    grantable.has(scope) ? [] : [{ field: `scopes[${index}]`, message: 'is not a scope you hold' }],
  );
  if (denied.length)
    throw new AppError('FORBIDDEN', 'An API key cannot have scopes its creator does not hold', {
      fields: denied,
    });

  return { name, scopes: [...new Set(request.scopes)].sort(), expiresAt };
}

function parseExpiry(value: string, now: Date, problems: FieldError[]): Date | null {
  if (value === '') return null;
  const match = RFC3339.exec(value);
  const at = match && isCalendarDate(+match[1], +match[2], +match[3]) ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    problems.push({ field: 'expires_at', message: 'must be an RFC 3339 date-time with an offset' });
    return null;
  }
  if (at.getTime() <= now.getTime()) problems.push({ field: 'expires_at', message: 'must be in the future' });
  else if (at.getTime() > now.getTime() + API_KEY_LIMITS.maxLifetimeDays * DAY_MS)
    problems.push({
      field: 'expires_at',
      message: `must be at most ${API_KEY_LIMITS.maxLifetimeDays} days ahead`,
    });
  return at;
}

// Date parsing rolls 2026-02-30 over to March; a date that does not exist is an error, not a guess.
function isCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
