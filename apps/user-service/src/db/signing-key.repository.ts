import type { SigningKeyStore, SigningKeyWriter, StoredSigningKey } from '../auth/key-ring.js';
import type { PublicJwk } from '../auth/signing-key.js';
import type { UserDb } from './prisma-client.js';

type Client = Pick<UserDb, 'signingKey'>;

const FIELDS = {
  kid: true,
  algorithm: true,
  publicJwk: true,
  privateKeyEncrypted: true,
  publishedAt: true,
  activatesAt: true,
  retiresAt: true,
  expiresAt: true,
} as const;

/** The key ring's table. Private keys arrive here already encrypted and leave still encrypted. */
export class SigningKeyRepository implements SigningKeyStore {
  constructor(private readonly db: UserDb) {}

  listLive(now: Date): Promise<StoredSigningKey[]> {
    return listLive(this.db, now);
  }

  underRingLock<T>(work: (writer: SigningKeyWriter) => Promise<T>): Promise<T> {
    return this.db.$transaction(async (tx) => {
      // Transaction-scoped advisory lock: replicas starting together (or a rotation racing a
      // bootstrap) queue here, and each re-reads the ring after the previous one committed.
      await tx.$executeRawUnsafe(
        "SELECT pg_advisory_xact_lock(hashtext('te-explico:user-service:signing-key-ring'))",
      );
      return work({
        listLive: (now) => listLive(tx, now),
        insert: async (key) => {
          await tx.signingKey.create({
            data: {
              kid: key.kid,
              algorithm: key.algorithm,
              publicJwk: key.publicJwk as unknown as object,
              privateKeyEncrypted: Uint8Array.from(key.privateKeyEncrypted),
              publishedAt: key.publishedAt,
              activatesAt: key.activatesAt,
              retiresAt: key.retiresAt,
              expiresAt: key.expiresAt,
            },
          });
        },
        scheduleRetirement: async (kid, retiresAt, expiresAt) => {
          await tx.signingKey.update({ where: { kid }, data: { retiresAt, expiresAt } });
        },
      });
    });
  }

  async deleteExpired(now: Date): Promise<number> {
    const { count } = await this.db.signingKey.deleteMany({ where: { expiresAt: { lte: now } } });
    return count;
  }
}

async function listLive(db: Client, now: Date): Promise<StoredSigningKey[]> {
  const rows = await db.signingKey.findMany({
    where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    orderBy: { activatesAt: 'asc' },
    select: FIELDS,
  });
  return rows.map((row) => ({ ...row, publicJwk: row.publicJwk as unknown as PublicJwk }));
}
