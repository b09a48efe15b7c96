import type { Prisma } from './generated/prisma/client.js';

/** Prisma inside db/: the client or a transaction. */
export type Queryable = Prisma.TransactionClient;

export interface WebhookEndpointRow {
  id: string;
  userId: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookSecretRow {
  id: string;
  keyId: string;
  ciphertext: Uint8Array;
  createdAt: Date;
  /** null: the current secret; otherwise a rotated one that signs until then. */
  expiresAt: Date | null;
}

export interface NewSecret {
  id: string;
  keyId: string;
  ciphertext: Uint8Array<ArrayBuffer>;
}

export type EndpointChanges = Partial<
  Pick<WebhookEndpointRow, 'url' | 'description' | 'eventTypes' | 'enabled' | 'disabledReason' | 'disabledAt'>
> & { failingSince?: Date | null };

const ENDPOINT_FIELDS = {
  id: true,
  userId: true,
  url: true,
  description: true,
  eventTypes: true,
  enabled: true,
  disabledReason: true,
  disabledAt: true,
  failingSince: true,
  createdAt: true,
  updatedAt: true,
} as const;

export class WebhookEndpointRepository {
  constructor(private readonly db: Queryable) {}

  countForUser(userId: string): Promise<number> {
    return this.db.webhookEndpoint.count({ where: { userId } });
  }

  async create(
    endpoint: Pick<WebhookEndpointRow, 'id' | 'userId' | 'url' | 'description' | 'eventTypes' | 'enabled'>,
    secret: NewSecret,
  ): Promise<WebhookEndpointRow> {
    return this.db.webhookEndpoint.create({
      data: { ...endpoint, secrets: { create: secret } },
      select: ENDPOINT_FIELDS,
    });
  }

  listForUser(userId: string): Promise<WebhookEndpointRow[]> {
    return this.db.webhookEndpoint.findMany({
      where: { userId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: ENDPOINT_FIELDS,
    });
  }

  async findForUser(userId: string, id: string): Promise<WebhookEndpointRow | undefined> {
    return (
      (await this.db.webhookEndpoint.findFirst({ where: { id, userId }, select: ENDPOINT_FIELDS })) ??
      undefined
    );
  }

  async findById(id: string): Promise<WebhookEndpointRow | undefined> {
    return (
      (await this.db.webhookEndpoint.findUnique({ where: { id }, select: ENDPOINT_FIELDS })) ?? undefined
    );
  }

  update(id: string, changes: EndpointChanges): Promise<WebhookEndpointRow> {
    return this.db.webhookEndpoint.update({ where: { id }, data: changes, select: ENDPOINT_FIELDS });
  }

  /** Secrets, deliveries and attempts go with it (foreign keys cascade). */
  async delete(userId: string, id: string): Promise<boolean> {
    return (await this.db.webhookEndpoint.deleteMany({ where: { id, userId } })).count === 1;
  }

  async deleteForUser(userId: string): Promise<number> {
    return (await this.db.webhookEndpoint.deleteMany({ where: { userId } })).count;
  }

  /** The enabled endpoints of a user (the caller filters by event type). */
  enabledForUser(userId: string): Promise<Pick<WebhookEndpointRow, 'id' | 'eventTypes'>[]> {
    return this.db.webhookEndpoint.findMany({
      where: { userId, enabled: true },
      select: { id: true, eventTypes: true },
    });
  }

  /** The secrets that sign now: the current one first, then a rotated one still in its overlap. */
  async signingSecrets(endpointId: string, now: Date): Promise<WebhookSecretRow[]> {
    const rows = await this.db.webhookSecret.findMany({
      where: { endpointId, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      select: { id: true, keyId: true, ciphertext: true, createdAt: true, expiresAt: true },
    });
    // The current secret (no expiry) first, then newer before older.
    return rows.sort(
      (a, b) =>
        Number(a.expiresAt !== null) - Number(b.expiresAt !== null) ||
        b.createdAt.getTime() - a.createdAt.getTime(),
    );
  }

  /** When the newest rotated secret stops signing (undefined: no overlap running). */
  async overlapEndsAt(endpointId: string, now: Date): Promise<Date | undefined> {
    const row = await this.db.webhookSecret.findFirst({
      where: { endpointId, expiresAt: { gt: now } },
      orderBy: { expiresAt: 'desc' },
      select: { expiresAt: true },
    });
    return row?.expiresAt ?? undefined;
  }

  /**
   * The new secret becomes current; the current one signs beside it until `previousExpiresAt`
   * (dropped at once when that is not in the future); any older rotated secret is dropped.
   */
  async rotateSecret(
    endpointId: string,
    secret: NewSecret,
    previousExpiresAt: Date,
    now: Date,
  ): Promise<void> {
    await this.db.webhookSecret.deleteMany({ where: { endpointId, expiresAt: { not: null } } });
    if (previousExpiresAt > now) {
      await this.db.webhookSecret.updateMany({
        where: { endpointId, expiresAt: null },
        data: { expiresAt: previousExpiresAt },
      });
    } else {
      await this.db.webhookSecret.deleteMany({ where: { endpointId } });
    }
    await this.db.webhookSecret.create({ data: { ...secret, endpointId } });
  }
}
