import { createHash } from 'node:crypto';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key.secret.js';

describe('API key secrets', () => {
  test('When a key is generated, then it is tek_<8-char public id>_<43-char secret> and its prefix and hash describe it', () => {
    const generated = generateApiKey();

    expect(generated.key).toMatch(/^tek_[0-9a-hjkmnp-tv-z]{8}_[A-Za-z0-9_-]{43}$/);
    expect(generated.prefix).toBe(generated.key.slice(0, 12));
    expect(generated.hash).toBe(createHash('sha256').update(generated.key).digest('base64url'));
    expect(Buffer.from(generated.key.slice(13), 'base64url')).toHaveLength(32);
  });

  test('When many keys are generated, then no two share a secret and prefixes spread over the alphabet', () => {
    const keys = Array.from({ length: 500 }, () => generateApiKey());

    expect(new Set(keys.map((k) => k.key.slice(13))).size).toBe(500);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(500);
    expect(new Set(keys.flatMap((k) => [...k.prefix.slice(4)])).size).toBe(32);
  });

  test('When a presented value is well formed, then its prefix is found; otherwise none is', () => {
    const { key, prefix } = generateApiKey();

    expect(apiKeyPrefix(key)).toBe(prefix);
    for (const bad of [
      '',
      key.toUpperCase(),
      key.replace('tek_', 'tok_'),
      `${key}A`,
      key.slice(0, -1),
      ` ${key}`,
      key.replace(/^tek_./, 'tek_i'), // i is not in the alphabet
      `${key.slice(0, 12)}-${key.slice(13)}`, // the separator (the secret itself may contain _ and -)
      'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    ]) {
      expect(apiKeyPrefix(bad)).toBeUndefined();
    }
  });

  test('When the presented key hashes to the stored hash, then it matches; any other key or a bad hash does not', () => {
    const { key, hash } = generateApiKey();
    const other = generateApiKey();

    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(apiKeyMatches(other.key, hash)).toBe(false);
    expect(apiKeyMatches(key, hash.slice(0, 20))).toBe(false);
    expect(apiKeyMatches(key, '')).toBe(false);
    expect(hashApiKey(key)).toBe(hash);
  });
});
