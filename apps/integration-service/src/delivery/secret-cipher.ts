import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets are stored encrypted (AES-256-GCM) under a key that lives outside the
 * database (WEBHOOK_SECRET_ENCRYPTION_KEY): a database dump alone cannot forge deliveries (OWASP
 * Cryptographic Storage Cheat Sheet). Same scheme as user-service's signing keys, kept separate on
 * purpose (apps share no code).
 *
 * Stored form: version (0x01) ‖ IV (12 random bytes) ‖ GCM tag (16 bytes) ‖ ciphertext. The row id
 * and the key id are authenticated as additional data, so a ciphertext copied onto another row does
 * not decrypt. Each row names its key id; retired keys (WEBHOOK_SECRET_DECRYPTION_KEYS) still
 * decrypt, so keys rotate without re-encrypting everything at once.
 */
const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Outside production, when WEBHOOK_SECRET_ENCRYPTION_KEY is unset: a fixed, public key that protects
 * nothing and only keeps one code path. The config refuses production without a real key.
 */
export const DEVELOPMENT_WEBHOOK_KEY = createHash('sha256')
  .update('te-explico DEVELOPMENT ONLY webhook secret encryption key (public, never use in production)')
  .digest();

export interface SealedSecret {
  keyId: string;
  ciphertext: Uint8Array<ArrayBuffer>;
}

export class SecretCipher {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  private constructor(
    private readonly current: Buffer,
    retired: Buffer[],
    /** True for DEVELOPMENT_WEBHOOK_KEY (start-up warns). */
    readonly isDevelopmentKey: boolean,
  ) {
    this.currentKeyId = keyIdOf(current);
    for (const key of [current, ...retired]) this.keys.set(keyIdOf(key), key);
  }

  /** From WEBHOOK_SECRET_ENCRYPTION_KEY (+ WEBHOOK_SECRET_DECRYPTION_KEYS), base64 or base64url. */
  static fromConfig(current: string | undefined, retired: readonly string[] = []): SecretCipher {
    return new SecretCipher(
      current ? decodeKey(current) : DEVELOPMENT_WEBHOOK_KEY,
      retired.map(decodeKey),
      !current,
    );
  }

  seal(rowId: string, plaintext: string): SealedSecret {
    const key = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(rowId, this.currentKeyId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
    return { keyId: this.currentKeyId, ciphertext: new Uint8Array(sealed) };
  }

  /** Throws when the row was not sealed by a known key for this id (wrong key, tampering, another row). */
  open(rowId: string, sealed: { keyId: string; ciphertext: Uint8Array }): string {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new Error(`webhook secret ${rowId}: encryption key ${sealed.keyId} is not configured`);
    const blob = Buffer.from(sealed.ciphertext);
    if (blob.length <= 1 + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) {
      throw new Error(`webhook secret ${rowId}: unknown encrypted format`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 1 + IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(rowId, sealed.keyId));
    decipher.setAuthTag(blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new Error(`webhook secret ${rowId} cannot be decrypted (wrong key or tampered row)`, {
        cause: error,
      });
    }
  }
}

function decodeKey(value: string): Buffer {
  // Node's base64 decoder accepts the base64url alphabet too.
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error('webhook secret encryption keys must decode to 32 bytes');
  return key;
}

/** A public name for a key: a hash prefix (it reveals nothing usable about a 256-bit key). */
function keyIdOf(key: Buffer): string {
  return `k_${createHash('sha256').update('te-explico webhook key id:').update(key).digest('hex').slice(0, 16)}`;
}

function additionalData(rowId: string, keyId: string): Buffer {
  return Buffer.from(`te-explico webhook secret v1:${rowId}:${keyId}`);
}
