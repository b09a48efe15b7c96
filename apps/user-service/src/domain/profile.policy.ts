import type { FieldError } from '@te/platform';

/**
 * What a user may set on their own profile. The same display-name rules as registration; a locale
 * that is a well-formed BCP 47 tag; preferences that stay a small, shallow JSON object (clients keep
 * UI settings there, not documents).
 */
export const NAME_MAX_LENGTH = 100;
/** RFC 5646 §4.4.1: implementations should accommodate tags of at least 35 characters. */
export const LOCALE_MAX_LENGTH = 35;
/** Size of the preferences object serialised as JSON, in UTF-8 bytes. */
export const PREFERENCES_MAX_BYTES = 16 * 1024;
/** Nesting levels, the top-level object included: `{ "editor": { "font": { "size": 12 } } }` is 3. */
export const PREFERENCES_MAX_DEPTH = 4;

// Control characters (Unicode Cc: C0, DEL, C1) have no place in a display name and break logs and UIs.
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Display names are stored NFKC-normalised and trimmed (as at registration). */
export function normaliseDisplayName(raw: string): string {
  return raw.normalize('NFKC').trim();
}

export function displayNameProblems(name: string): FieldError[] {
  if (name.length === 0) return [{ field: 'name', message: 'must not be empty' }];
  if ([...name].length > NAME_MAX_LENGTH)
    return [{ field: 'name', message: `must be at most ${NAME_MAX_LENGTH} characters` }];
  if (CONTROL_CHARACTERS.test(name))
    return [{ field: 'name', message: 'must not contain control characters' }];
  return [];
}

/**
 * The canonical form of a BCP 47 language tag ("pt-br" → "pt-BR"), or undefined when the tag is not
 * well-formed. `Intl.getCanonicalLocales` implements the Unicode BCP 47 locale identifier grammar
 * (UTS #35), so what is stored is what every `Intl` API and browser accepts.
 */
export function canonicalLocale(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > LOCALE_MAX_LENGTH) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(raw);
    return canonical;
  } catch {
    return undefined;
  }
}

export function preferencesProblems(preferences: unknown): FieldError[] {
  if (!isPlainObject(preferences)) return [{ field: 'preferences', message: 'must be a JSON object' }];
  // Depth first: it is checked without recursion, so a pathological nesting never reaches stringify.
  if (exceedsDepth(preferences, PREFERENCES_MAX_DEPTH))
    return [{ field: 'preferences', message: `must nest at most ${PREFERENCES_MAX_DEPTH} levels deep` }];
  const bytes = Buffer.byteLength(JSON.stringify(preferences), 'utf8');
  if (bytes > PREFERENCES_MAX_BYTES)
    return [{ field: 'preferences', message: `must be at most ${PREFERENCES_MAX_BYTES} bytes as JSON` }];
  return [];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Arrays and objects both count as a level; walks iteratively and stops at the first level too deep. */
function exceedsDepth(root: object, maxDepth: number): boolean {
  const pending: [value: unknown, level: number][] = [[root, 1]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [value, level] = item;
    if (level > maxDepth) return true;
    for (const child of Object.values(value as object)) {
      if (typeof child === 'object' && child !== null) pending.push([child, level + 1]);
    }
  }
  return false;
}
