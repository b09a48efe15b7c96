import type { ConnectorSettings } from '../connectors/connector.js';
import type { Queryable } from './webhook-endpoint.repository.js';

export interface ConnectorRow {
  id: string;
  userId: string;
  kind: string;
  name: string;
  eventTypes: string[];
  enabled: boolean;
  settings: ConnectorSettings;
  credentialHint: string | null;
  disabledReason: string | null;
  disabledAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A credential as stored: AES-256-GCM ciphertext under keyId (src/delivery/secret-cipher.ts). */
export interface SealedCredential {
  keyId: string;
  ciphertext: Uint8Array<ArrayBuffer>;
  hint: string;
}

export type ConnectorChanges = Partial<
  Pick<
    ConnectorRow,
    'name' | 'eventTypes' | 'enabled' | 'settings' | 'disabledReason' | 'disabledAt' | 'failingSince'
  >
> & {
  /** null removes the credential; undefined keeps it. */
  credential?: SealedCredential | null;
};

const CONNECTOR_FIELDS = {
  id: true,
  userId: true,
  kind: true,
  name: true,
  eventTypes: true,
  enabled: true,
  settings: true,
  credentialHint: true,
  disabledReason: true,
  disabledAt: true,
  failingSince: true,
  createdAt: true,
  updatedAt: true,
} as const;

type Selected = Omit<ConnectorRow, 'settings'> & { settings: unknown };
const toRow = (row: Selected): ConnectorRow => ({
  ...row,
  settings: (row.settings ?? {}) as ConnectorSettings,
});

function credentialColumns(credential: SealedCredential | null) {
  return {
    credentialKeyId: credential?.keyId ?? null,
    credentialCiphertext: credential?.ciphertext ?? null,
    credentialHint: credential?.hint ?? null,
  };
}

export class ConnectorRepository {
  constructor(private readonly db: Queryable) {}

  countForUser(userId: string): Promise<number> {
    return this.db.connector.count({ where: { userId } });
  }

  async create(
    connector: Pick<ConnectorRow, 'id' | 'userId' | 'kind' | 'name' | 'eventTypes' | 'enabled' | 'settings'>,
    credential: SealedCredential | null,
  ): Promise<ConnectorRow> {
    return toRow(
      await this.db.connector.create({
        data: { ...connector, settings: { ...connector.settings }, ...credentialColumns(credential) },
        select: CONNECTOR_FIELDS,
      }),
    );
  }

  async listForUser(userId: string): Promise<ConnectorRow[]> {
    const rows = await this.db.connector.findMany({
      where: { userId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: CONNECTOR_FIELDS,
    });
    return rows.map(toRow);
  }

  async findForUser(userId: string, id: string): Promise<ConnectorRow | undefined> {
    const row = await this.db.connector.findFirst({ where: { id, userId }, select: CONNECTOR_FIELDS });
    return row ? toRow(row) : undefined;
  }

  async findById(id: string): Promise<ConnectorRow | undefined> {
    const row = await this.db.connector.findUnique({ where: { id }, select: CONNECTOR_FIELDS });
    return row ? toRow(row) : undefined;
  }

  /** The sealed credential (undefined: none stored). Read only by the attempt that sends it. */
  async credentialOf(id: string): Promise<{ keyId: string; ciphertext: Uint8Array } | undefined> {
    const row = await this.db.connector.findUnique({
      where: { id },
      select: { credentialKeyId: true, credentialCiphertext: true },
    });
    return row?.credentialKeyId && row.credentialCiphertext
      ? { keyId: row.credentialKeyId, ciphertext: row.credentialCiphertext }
      : undefined;
  }

  /**
   * Re-seals a credential under the current key (lazy rotation), only if it is still the one sealed
   * under `previousKeyId` (a credential replaced meanwhile is left alone).
   */
  async resealCredential(
    id: string,
    previousKeyId: string,
    credential: Omit<SealedCredential, 'hint'>,
  ): Promise<boolean> {
    const updated = await this.db.connector.updateMany({
      where: { id, credentialKeyId: previousKeyId },
      data: { credentialKeyId: credential.keyId, credentialCiphertext: credential.ciphertext },
    });
    return updated.count === 1;
  }

  async update(id: string, changes: ConnectorChanges): Promise<ConnectorRow> {
    const { credential, settings, ...rest } = changes;
    return toRow(
      await this.db.connector.update({
        where: { id },
        data: {
          ...rest,
          ...(settings !== undefined && { settings: { ...settings } }),
          ...(credential !== undefined && credentialColumns(credential)),
        },
        select: CONNECTOR_FIELDS,
      }),
    );
  }

  /** Its deliveries and attempts go with it (foreign keys cascade). */
  async delete(userId: string, id: string): Promise<boolean> {
    return (await this.db.connector.deleteMany({ where: { id, userId } })).count === 1;
  }

  async deleteForUser(userId: string): Promise<number> {
    return (await this.db.connector.deleteMany({ where: { userId } })).count;
  }

  /** The enabled connectors of a user (the caller filters by event type). */
  enabledForUser(userId: string): Promise<Pick<ConnectorRow, 'id' | 'eventTypes'>[]> {
    return this.db.connector.findMany({
      where: { userId, enabled: true },
      select: { id: true, eventTypes: true },
    });
  }
}
