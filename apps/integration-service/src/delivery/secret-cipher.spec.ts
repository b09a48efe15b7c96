import { randomBytes, randomUUID } from 'node:crypto';
import { SecretCipher } from './secret-cipher.js';

const key = () => randomBytes(32).toString('base64');

describe('SecretCipher (AES-256-GCM at rest)', () => {
  it('When a secret is sealed, then the ciphertext does not contain it and it opens again for that row only', () => {
    const cipher = SecretCipher.fromConfig(key());
    const id = randomUUID();
    const sealed = cipher.seal(id, 'whsec_c2VjcmV0');

    expect(Buffer.from(sealed.ciphertext).includes('c2VjcmV0')).toBe(false);
    expect(cipher.open(id, sealed)).toBe('whsec_c2VjcmV0');
    expect(() => cipher.open(randomUUID(), sealed)).toThrow(/cannot be decrypted/);
  });

  it('When the key is rotated, then rows sealed with the retired key still open and new rows use the new one', () => {
    const oldKey = key();
    const before = SecretCipher.fromConfig(oldKey);
    const id = randomUUID();
    const sealed = before.seal(id, 'whsec_b2xk');

    const after = SecretCipher.fromConfig(key(), [oldKey]);

    expect(after.open(id, sealed)).toBe('whsec_b2xk');
    expect(after.seal(id, 'x').keyId).not.toBe(sealed.keyId);
    expect(() => SecretCipher.fromConfig(key()).open(id, sealed)).toThrow(/not configured/);
  });

  it('When a byte of the ciphertext changes, then it does not open', () => {
    const cipher = SecretCipher.fromConfig(undefined);
    const id = randomUUID();
    const sealed = cipher.seal(id, 'whsec_dGFtcGVy');
    sealed.ciphertext[sealed.ciphertext.length - 1]! ^= 1;

    expect(cipher.isDevelopmentKey).toBe(true);
    expect(() => cipher.open(id, sealed)).toThrow();
  });
});
