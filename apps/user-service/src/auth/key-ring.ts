import { AppError, type Logger } from '@te/platform';
import type { KeyEncryptionKey } from './key-encryption.js';
import {
  currentSigner,
  isActive,
  isPublished,
  planRotation,
  type KeySchedule,
  type RotationSettings,
} from './key-rotation.policy.js';
import {
  exportPrivateKey,
  generateSigningKey,
  importPrivateKey,
  type PublicJwk,
  type SigningKey,
} from './signing-key.js';

/** A row of the key ring as the store keeps it (the private key only ever encrypted). */
export interface StoredSigningKey extends KeySchedule {
  algorithm: string;
  publicJwk: PublicJwk;
  privateKeyEncrypted: Uint8Array;
}

/** What the ring may do while it holds the ring lock (one transaction). */
export interface SigningKeyWriter {
  listLive(now: Date): Promise<StoredSigningKey[]>;
  insert(key: StoredSigningKey): Promise<void>;
  scheduleRetirement(kid: string, retiresAt: Date, expiresAt: Date): Promise<void>;
}

export interface SigningKeyStore {
  /** Keys whose `expiresAt` has not passed at `now`. */
  listLive(now: Date): Promise<StoredSigningKey[]>;
  /** Runs `work` in one transaction holding the ring's lock, so replicas never bootstrap or rotate at once. */
  underRingLock<T>(work: (writer: SigningKeyWriter) => Promise<T>): Promise<T>;
  deleteExpired(now: Date): Promise<number>;
}

export interface KeyRingOptions extends RotationSettings {
  store: SigningKeyStore;
  encryption: KeyEncryptionKey;
  logger: Logger;
  /** Each replica re-reads the ring when its copy is older than this (keys are published ahead of use). */
  reloadIntervalMs: number;
  /** Injectable for tests that move through rotation periods. */
  clock?: () => Date;
}

interface LoadedKey extends KeySchedule {
  publicJwk: PublicJwk;
  /** Undefined for retired keys: they never sign again, so their private half is not even decrypted. */
  signingKey?: SigningKey;
}

/**
 * The access-token signing keys (signing_keys table), shared by every replica through the database.
 * Each replica keeps a copy in memory, signs with the newest active key, and re-reads the table when
 * its copy is older than `reloadIntervalMs` (stale-while-revalidate: nobody waits for the reload, and a
 * key that activates between reloads is already in the copy because it was published ahead).
 */
export class SigningKeyRing {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private loading?: Promise<void>;
  private readonly clock: () => Date;

  constructor(private readonly options: KeyRingOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** First use: makes sure a key can sign (creating one if none can), then loads the ring. */
  async ensureLoaded(): Promise<void> {
    if (this.loadedAt > 0) {
      this.reloadIfStale();
      return;
    }
    this.loading ??= this.apply('bootstrap').finally(() => (this.loading = undefined));
    await this.loading;
  }

  /** The key that signs now. */
  async signingKey(): Promise<SigningKey> {
    await this.ensureLoaded();
    const signer = currentSigner(this.keys, this.clock());
    if (!signer?.signingKey) throw new AppError('UNAVAILABLE', 'No signing key is active');
    return signer.signingKey;
  }

  /** The JWKS: every key published and not yet expired (pending, active and retired ones). */
  async publicKeys(): Promise<PublicJwk[]> {
    await this.ensureLoaded();
    const now = this.clock();
    return this.keys.filter((key) => isPublished(key, now)).map((key) => key.publicJwk);
  }

  /** The scheduled job (one replica): replaces a signer older than the rotation period. */
  async rotate(): Promise<void> {
    await this.apply('rotate');
  }

  /** The scheduled purge: rows past `expiresAt` are of no use to anyone. */
  purgeExpired(): Promise<number> {
    return this.options.store.deleteExpired(this.clock());
  }

  /** Re-reads the ring now. */
  async reload(): Promise<void> {
    const now = this.clock();
    const rows = await this.options.store.listLive(now);
    this.keys = rows.map((row) => this.load(row, now));
    this.loadedAt = now.getTime();
  }

  private async apply(mode: 'bootstrap' | 'rotate'): Promise<void> {
    const { store, logger } = this.options;
    await store.underRingLock(async (writer) => {
      const now = this.clock();
      const plan = planRotation(await writer.listLive(now), now, this.options, mode);
      if (!plan.create) return;
      for (const retired of plan.retire) {
        await writer.scheduleRetirement(retired.kid, retired.retiresAt, retired.expiresAt);
      }
      const key = generateSigningKey();
      await writer.insert({
        kid: key.kid,
        algorithm: key.alg,
        publicJwk: key.publicJwk,
        privateKeyEncrypted: this.options.encryption.encrypt(key.kid, exportPrivateKey(key)),
        publishedAt: plan.create.publishedAt,
        activatesAt: plan.create.activatesAt,
        retiresAt: null,
        expiresAt: null,
      });
      logger.info('signing key created', {
        kid: key.kid,
        activates_at: plan.create.activatesAt.toISOString(),
        retiring: plan.retire.map((retired) => retired.kid),
      });
    });
    await this.reload();
  }

  private load(row: StoredSigningKey, now: Date): LoadedKey {
    const { kid, publicJwk, publishedAt, activatesAt, retiresAt, expiresAt } = row;
    const key: LoadedKey = { kid, publicJwk, publishedAt, activatesAt, retiresAt, expiresAt };
    if (!isActive(row, now) && row.activatesAt <= now) return key;
    // A key that cannot be decrypted is a deployment error (wrong SIGNING_KEY_ENCRYPTION_KEY): fail
    // loudly rather than sign with something else.
    const der = this.options.encryption.decrypt(row.kid, row.privateKeyEncrypted);
    const signingKey = importPrivateKey(der);
    if (signingKey.kid !== kid) throw new Error(`signing key ${kid}: stored key has another thumbprint`);
    return { ...key, signingKey };
  }

  private reloadIfStale(): void {
    if (this.loading || this.clock().getTime() - this.loadedAt < this.options.reloadIntervalMs) return;
    this.loading = this.reload()
      .catch((error: unknown) => {
        // Keep the copy we have: its keys were published ahead and keep verifying and signing.
        this.options.logger.warn('signing key ring reload failed; keeping the loaded keys', { err: error });
        this.loadedAt = this.clock().getTime();
      })
      .finally(() => (this.loading = undefined));
  }
}
