import { createDecipheriv, createPrivateKey } from 'node:crypto';
import pg from 'pg';
import { ecKeyFromPrivateKey, type TestKey } from './tokens.js';

/**
 * user-service's signing keys as the test reads them from its database: the harness gives user-service
 * the key-encryption key (SIGNING_KEY_ENCRYPTION_KEY), so a test can decrypt the ring and sign "control"
 * tokens with the very key the gateway trusts (and then break them in one precise way).
 *
 * The stored format is user-service's (apps/user-service/src/auth/key-encryption.ts): version byte 0x01,
 * 12-byte IV, 16-byte GCM tag, ciphertext of the PKCS#8 DER; the additional data binds the kid.
 */
export async function readSigningKey(
  databaseUrl: string,
  keyEncryptionKey: string,
  which: 'current' | { kid: string } = 'current',
): Promise<TestKey> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ kid: string; private_key_encrypted: Buffer }>(
      which === 'current'
        ? `SELECT kid, private_key_encrypted FROM signing_keys
           WHERE activates_at <= now() AND (retires_at IS NULL OR retires_at > now())
           ORDER BY activates_at DESC LIMIT 1`
        : 'SELECT kid, private_key_encrypted FROM signing_keys WHERE kid = $1',
      which === 'current' ? [] : [which.kid],
    );
    if (!rows[0]) throw new Error('user-service has no such signing key (is it ready?)');
    const { kid, private_key_encrypted: blob } = rows[0];
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(keyEncryptionKey, 'base64url'),
      blob.subarray(1, 13),
    );
    decipher.setAAD(Buffer.from(`te-explico signing key v1:${kid}`));
    decipher.setAuthTag(blob.subarray(13, 29));
    const der = Buffer.concat([decipher.update(blob.subarray(29)), decipher.final()]);
    const key = ecKeyFromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    if (key.kid !== kid) throw new Error(`decrypted key ${key.kid} does not match its row ${kid}`);
    return key;
  } finally {
    await db.end();
  }
}
