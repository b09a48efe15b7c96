import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Signing keys are stored encrypted (AES-256-GCM) under a key-encryption key that lives outside the
 * database (SIGNING_KEY_ENCRYPTION_KEY), so a database dump or backup alone cannot mint tokens
 * (OWASP Cryptographic Storage Cheat Sheet: keep data-encryption keys wrapped by a separate key).
 *
 * Stored form: version (1 byte, 0x01) ‖ IV (12 bytes, random per encryption) ‖ GCM tag (16 bytes) ‖
 * ciphertext of the PKCS#8 DER. The key id is authenticated as additional data, so a ciphertext
 * copied onto another row does not decrypt.
 */
const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Outside production, when SIGNING_KEY_ENCRYPTION_KEY is unset, keys are encrypted with this fixed,
 * public key: it protects nothing, it only keeps one code path. The config refuses production
 * without a real key, and start-up warns whenever this one is used.
 */
export const DEVELOPMENT_KEY_ENCRYPTION_KEY = createHash('sha256')
  .update('te-explico DEVELOPMENT ONLY signing-key encryption key (public, never use in production)')
  .digest();

export class KeyEncryptionKey {
  private constructor(
    private readonly key: Buffer,
    /** True for DEVELOPMENT_KEY_ENCRYPTION_KEY (start-up warns). */
    readonly isDevelopmentKey: boolean,
  ) {}

  /** From SIGNING_KEY_ENCRYPTION_KEY (32 bytes, base64 or base64url), or the development key when unset. */
  static fromConfig(value: string | undefined): KeyEncryptionKey {
    if (value === undefined || value === '')
      return new KeyEncryptionKey(DEVELOPMENT_KEY_ENCRYPTION_KEY, true);
    // Node's base64 decoder accepts the base64url alphabet too.
    const key = Buffer.from(value, 'base64');
    if (key.length !== 32) throw new Error('SIGNING_KEY_ENCRYPTION_KEY must decode to 32 bytes');
    return new KeyEncryptionKey(key, false);
  }

  encrypt(kid: string, plaintext: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(kid));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws when the blob was not made by this key for this kid (wrong key, tampering, another row). */
  decrypt(kid: string, stored: Uint8Array): Buffer {
    const blob = Buffer.from(stored);
    if (blob.length <= 1 + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) {
      throw new Error(`signing key ${kid}: unknown encrypted format`);
    }
    const iv = blob.subarray(1, 1 + IV_BYTES);
    const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(kid));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new Error(
        `signing key ${kid} cannot be decrypted with SIGNING_KEY_ENCRYPTION_KEY (wrong key or tampered row)`,
        { cause: error },
      );
    }
  }
}

function additionalData(kid: string): Buffer {
  return Buffer.from(`te-explico signing key v1:${kid}`);
}
