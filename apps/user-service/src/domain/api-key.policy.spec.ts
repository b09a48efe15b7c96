import { AppError, scopesForRoles } from '@te/platform';
import { validateApiKeyRequest } from './api-key.policy.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const USER_SCOPES = new Set<string>(scopesForRoles(['user']));

function failure(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected validation to fail');
}

describe('validateApiKeyRequest', () => {
  test('When the request is valid, then the name is trimmed, scopes de-duplicated and the expiry parsed', () => {
    const valid = validateApiKeyRequest(
      {
        name: '  CI deploy  ',
        scopes: ['explain', 'profile:read', 'explain'],
        expiresAt: '2026-07-01T14:00:00+02:00',
      },
      USER_SCOPES,
      NOW,
    );

    expect(valid).toEqual({
      name: 'CI deploy',
      scopes: ['explain', 'profile:read'],
      expiresAt: new Date('2026-07-01T12:00:00.000Z'),
    });
  });

  test('When no expiry is given, then the key does not expire', () => {
    expect(
      validateApiKeyRequest({ name: 'x', scopes: ['explain'], expiresAt: '' }, USER_SCOPES, NOW).expiresAt,
    ).toBeNull();
  });

  test('When several fields are bad, then every one is named in one VALIDATION_FAILED', () => {
    const error = failure(() =>
      validateApiKeyRequest(
        { name: ' ', scopes: ['explain', 'root', 'admin:*'], expiresAt: 'tomorrow' },
        USER_SCOPES,
        NOW,
      ),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([
      { field: 'name', message: 'is required' },
      { field: 'scopes[1]', message: 'is not a known scope' },
      { field: 'scopes[2]', message: 'is not a known scope' },
      { field: 'expires_at', message: 'must be an RFC 3339 date-time with an offset' },
    ]);
  });

  test.each([
    ['no scopes', { scopes: [] }, 'scopes', 'must list at least one scope'],
    ['a 101-character name', { name: 'n'.repeat(101) }, 'name', 'must be at most 100 characters'],
    ['a control character in the name', { name: 'a\u0007b' }, 'name', 'must not contain control characters'],
    ['a lone surrogate in the name', { name: 'a\ud800' }, 'name', 'must be valid Unicode text'],
    ['an expiry now', { expiresAt: NOW.toISOString() }, 'expires_at', 'must be in the future'],
    ['an expiry in the past', { expiresAt: '2026-05-31T12:00:00Z' }, 'expires_at', 'must be in the future'],
    [
      'an expiry beyond a year',
      { expiresAt: '2027-06-02T12:00:00Z' },
      'expires_at',
      'must be at most 365 days ahead',
    ],
    [
      'a date that does not exist',
      { expiresAt: '2027-02-30T00:00:00Z' },
      'expires_at',
      'must be an RFC 3339 date-time with an offset',
    ],
    [
      'a date without an offset',
      { expiresAt: '2026-07-01T12:00:00' },
      'expires_at',
      'must be an RFC 3339 date-time with an offset',
    ],
  ])('When the request has %s, then it is refused naming %s', (_case, change, field, message) => {
    const error = failure(() =>
      validateApiKeyRequest({ name: 'key', scopes: ['explain'], expiresAt: '', ...change }, USER_SCOPES, NOW),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([{ field, message }]);
  });

  test('When a 100-character name and an expiry exactly a year ahead are given, then they are accepted', () => {
    const valid = validateApiKeyRequest(
      { name: 'é'.repeat(100), scopes: ['explain'], expiresAt: '2027-06-01T12:00:00.000Z' },
      USER_SCOPES,
      NOW,
    );

    expect(valid.name).toHaveLength(100);
  });

  test('When a known scope is not grantable, then the answer is FORBIDDEN naming it', () => {
    const error = failure(() =>
      validateApiKeyRequest(
        { name: 'key', scopes: ['explain', 'admin:usage:read'], expiresAt: '' },
        USER_SCOPES,
        NOW,
      ),
    );

    expect(error.code).toBe('FORBIDDEN');
    expect(error.fields).toEqual([{ field: 'scopes[1]', message: 'is not a scope you hold' }]);
  });
});
