import { isUniqueViolation } from '@te/database';
import type { Logger } from '@te/platform';
import { ApiKeyPrefixTaken, type ApiKey, type ApiKeyStore, type StoredApiKey } from '../domain/api-key.js';
import type { UserDb } from './prisma-client.js';

// What an owner may see of a key: never the hash.
const PUBLIC_FIELDS = {
  id: true,
  userId: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  expiresAt: true,
  lastUsedAt: true,
} as const;

export class ApiKeyRepository implements ApiKeyStore {
  constructor(
    private readonly db: UserDb,
    private readonly logger: Logger,
  ) {}

  async create(key: Parameters<ApiKeyStore['create']>[0]): Promise<ApiKey> {
    try {
      return await this.db.apiKey.create({ data: key, select: PUBLIC_FIELDS });
    } catch (error) {
      if (isUniqueViolation(error, 'prefix')) throw new ApiKeyPrefixTaken();
      throw error;
    }
  }

  listActive(userId: string, now: Date): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({
      where: activeWhere(userId, now),
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: PUBLIC_FIELDS,
    });
  }

  countActive(userId: string, now: Date): Promise<number> {
    return this.db.apiKey.count({ where: activeWhere(userId, now) });
  }

  async revoke(userId: string, id: string, now: Date): Promise<ApiKey | undefined> {
    // The owner and "not yet revoked" are part of the UPDATE's condition: another user's id, or a
    // concurrent second revocation, changes nothing and reads as not found.
    const { count } = await this.db.apiKey.updateMany({
      where: { id, userId, revokedAt: null },
      data: { revokedAt: now },
    });
    if (count === 0) return undefined;
    return (await this.db.apiKey.findUnique({ where: { id }, select: PUBLIC_FIELDS })) ?? undefined;
  }

  async findByPrefix(prefix: string): Promise<StoredApiKey | undefined> {
    const row = await this.db.apiKey.findUnique({
      where: { prefix },
      select: { ...PUBLIC_FIELDS, secretHash: true, revokedAt: true, user: { select: { roles: true } } },
    });
    if (!row) return undefined;
    const { user, ...key } = row;
    return { ...key, ownerRoles: user.roles };
  }

  async touchLastUsed(id: string, now: Date, staleBefore: Date): Promise<void> {
    try {
      await this.db.apiKey.updateMany({
        where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] },
        data: { lastUsedAt: now },
      });
    } catch (error) {
      this.logger.warn('could not record API key use', { api_key_id: id, err: error });
    }
  }
}

function activeWhere(userId: string, now: Date) {
  return { userId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}
