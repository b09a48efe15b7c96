import { AppError } from '@te/platform';
import { MAX_SIGNED_URL_SECONDS } from './object-storage.js';

const MAX_KEY_LENGTH = 512;
// One path segment: a conservative set every S3 implementation and every filesystem treats literally.
// A segment never starts with '.', which rules out '.', '..' and hidden files (the filesystem driver
// keeps its temporary files under '.tmp/').
const SEGMENT = /^[A-Za-z0-9_=+-][A-Za-z0-9._=+-]*$/;

/**
 * Object keys are '/'-separated segments of [A-Za-z0-9._=+-], none starting with '.', no empty segment,
 * no leading '/', at most 512 characters. So '..', absolute paths, NUL bytes and backslashes can never
 * reach a path or a URL: path traversal is impossible by construction, for both drivers alike.
 */
export function assertValidKey(key: string, field = 'key'): void {
  const problem = keyProblem(key);
  if (problem) throw invalid(field, `Invalid object key: ${problem}`);
}

/** A prefix is a valid key followed by '/', so 'users/1/' never matches 'users/10/…'. */
export function assertValidPrefix(prefix: string): void {
  const problem = prefix.endsWith('/') ? keyProblem(prefix.slice(0, -1)) : "must end with '/'";
  if (problem) throw invalid('prefix', `Invalid object key prefix: ${problem}`);
}

export function assertValidExpiry(expiresInSeconds: number): void {
  if (
    !Number.isInteger(expiresInSeconds) ||
    expiresInSeconds < 1 ||
    expiresInSeconds > MAX_SIGNED_URL_SECONDS
  ) {
    throw invalid(
      'expiresInSeconds',
      `A signed URL lasts a whole number of seconds from 1 to ${MAX_SIGNED_URL_SECONDS}`,
    );
  }
}

function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'must not be empty';
  if (key.length > MAX_KEY_LENGTH) return `must be at most ${MAX_KEY_LENGTH} characters`;
  if (key.startsWith('/')) return 'must not be an absolute path';
  if (key.includes('\0')) return 'must not contain NUL';
  if (key.includes('\\')) return 'must not contain backslashes';
  for (const segment of key.split('/')) {
    if (segment === '') return 'must not contain empty segments';
    if (segment === '.' || segment === '..') return "must not contain '.' or '..' segments";
    if (!SEGMENT.test(segment))
      return `segment '${segment.slice(0, 64)}' has characters outside [A-Za-z0-9._=+-] or starts with '.'`;
  }
  return undefined;
}

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { fields: [{ field, message }] });
}
