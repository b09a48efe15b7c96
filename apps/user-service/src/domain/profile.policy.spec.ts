import {
  canonicalLocale,
  displayNameProblems,
  normaliseDisplayName,
  PREFERENCES_MAX_BYTES,
  preferencesProblems,
} from './profile.policy.js';

describe('profile policy', () => {
  it('When a locale is a well-formed BCP 47 tag, then its canonical form is kept', () => {
    expect(canonicalLocale('pt-br')).toBe('pt-BR');
    expect(canonicalLocale('EN')).toBe('en');
    expect(canonicalLocale('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(canonicalLocale('de-DE-u-co-phonebk')).toBe('de-DE-u-co-phonebk');
  });

  it('When a locale is not well-formed, then it is refused', () => {
    for (const bad of [
      '',
      'englishlanguage',
      'en_US',
      'en-',
      '-en',
      '12',
      'en US',
      'a'.repeat(36),
      'x-private',
    ]) {
      expect(canonicalLocale(bad)).toBeUndefined();
    }
  });

  it('When a display name is checked, then the registration rules apply', () => {
    expect(normaliseDisplayName('  Ａda ')).toBe('Ada');
    expect(displayNameProblems('Ada')).toEqual([]);
    expect(displayNameProblems('')).toEqual([{ field: 'name', message: 'must not be empty' }]);
    expect(displayNameProblems('x'.repeat(101))[0]?.message).toBe('must be at most 100 characters');
    expect(displayNameProblems('🙂'.repeat(100))).toEqual([]);
    expect(displayNameProblems('Ada\u0007')[0]?.message).toBe('must not contain control characters');
  });

  it('When preferences are checked, then only a small, shallow JSON object passes', () => {
    expect(preferencesProblems({ theme: 'dark', editor: { font: { size: 12 } } })).toEqual([]);
    expect(preferencesProblems({})).toEqual([]);
    for (const notObject of [null, [], 'dark', 3, true]) {
      expect(preferencesProblems(notObject)).toEqual([
        { field: 'preferences', message: 'must be a JSON object' },
      ]);
    }
    expect(preferencesProblems({ a: { b: { c: [1] } } })).toEqual([]);
    expect(preferencesProblems({ a: { b: { c: { d: 1 } } } })).toEqual([]);
    expect(preferencesProblems({ a: { b: { c: { d: { e: 1 } } } } })[0]?.message).toBe(
      'must nest at most 4 levels deep',
    );
    expect(preferencesProblems({ text: 'x'.repeat(PREFERENCES_MAX_BYTES - 11) })).toEqual([]);
    expect(preferencesProblems({ text: 'x'.repeat(PREFERENCES_MAX_BYTES - 10) })[0]?.message).toBe(
      `must be at most ${PREFERENCES_MAX_BYTES} bytes as JSON`,
    );
  });

  it('When preferences nest pathologically deep, then they are refused without exhausting the stack', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`) as unknown;
    expect(preferencesProblems(deep)[0]?.message).toBe('must nest at most 4 levels deep');
  });
});
