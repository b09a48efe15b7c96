import { randomBytes } from 'node:crypto';
import { DEVELOPMENT_KEY_ENCRYPTION_KEY, KeyEncryptionKey } from './key-encryption.js';

describe('KeyEncryptionKey (AES-256-GCM)', () => {
  const configured = randomBytes(32).toString('base64url');
  const plaintext = randomBytes(138);

  it('When a key is encrypted, then the result hides the plaintext, differs each time and decrypts back', () => {
    const kek = KeyEncryptionKey.fromConfig(configured);
    const a = kek.encrypt('kid-1', plaintext);
    const b = kek.encrypt('kid-1', plaintext);
    expect(a.equals(b)).toBe(false); // random IV per encryption
    expect(a.includes(plaintext.subarray(0, 16))).toBe(false);
    expect(a[0]).toBe(1);
    expect(kek.decrypt('kid-1', a).equals(plaintext)).toBe(true);
  });

  it('When the wrong key, another kid or a changed byte is used, then decryption fails', () => {
    const kek = KeyEncryptionKey.fromConfig(configured);
    const stored = kek.encrypt('kid-1', plaintext);
    const other = KeyEncryptionKey.fromConfig(randomBytes(32).toString('base64'));
    expect(() => other.decrypt('kid-1', stored)).toThrow('cannot be decrypted');
    expect(() => kek.decrypt('kid-2', stored)).toThrow('cannot be decrypted');
    const tampered = Buffer.from(stored);
    tampered[tampered.length - 1] ^= 1;
    expect(() => kek.decrypt('kid-1', tampered)).toThrow('cannot be decrypted');
  });

  it('When no key is configured, then the development key is used and says so', () => {
    const kek = KeyEncryptionKey.fromConfig(undefined);
    expect(kek.isDevelopmentKey).toBe(true);
    expect(DEVELOPMENT_KEY_ENCRYPTION_KEY).toHaveLength(32);
    expect(KeyEncryptionKey.fromConfig(configured).isDevelopmentKey).toBe(false);
  });

  it('When the configured key is not 32 bytes, then it is refused', () => {
    expect(() => KeyEncryptionKey.fromConfig(randomBytes(16).toString('base64'))).toThrow('32 bytes');
  });
});
