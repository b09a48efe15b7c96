import type { Queryable } from './webhook-endpoint.repository.js';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** Whose deliveries: a webhook endpoint's or a connector's (each delivery has exactly one). */
export type DeliveryTarget = { endpointId: string } | { connectorId: string };

export interface WebhookAttemptRow {
  id: string;
  sequence: number;
  attempt: number;
  attemptedAt: Date;
  responseStatus: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  succeeded: boolean;
}

export interface WebhookDeliveryRow {
  id: string;
  endpointId: string | null;
  connectorId: string | null;
  userId: string;
  messageId: string;
  eventId: string | null;
  eventType: string;
  payload: string;
  status: string;
  sequence: number;
  attemptCount: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

export interface NewDelivery {
  id: string;
  /** Exactly one of endpointId and connectorId. */
  endpointId?: string;
  connectorId?: string;
  userId: string;
  messageId: string;
  eventId: string | null;
  eventType: string;
  payload: string;
  nextAttemptAt: Date;
}

/** A delivery this replica leased to attempt now. */
export interface ClaimedDelivery {
  id: string;
  /** Exactly one of the two is set. */
  endpointId: string | null;
  connectorId: string | null;
  messageId: string;
  payload: string;
  sequence: number;
  attemptCount: number;
  leaseId: string;
}

export interface Cursor {
  createdAt: Date;
  id: string;
}

const DELIVERY_FIELDS = {
  id: true,
  endpointId: true,
  connectorId: true,
  userId: true,
  messageId: true,
  eventId: true,
  eventType: true,
  payload: true,
  status: true,
  sequence: true,
  attemptCount: true,
  nextAttemptAt: true,
  createdAt: true,
} as const;

export class WebhookDeliveryRepository {
  constructor(private readonly db: Queryable) {}

  /** One row per endpoint; a redelivered event finds its rows and adds none (unique endpoint+event). */
  async createMany(deliveries: NewDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    return (
      await this.db.webhookDelivery.createMany({
        data: deliveries.map((delivery) => ({ ...delivery, status: 'pending' })),
        skipDuplicates: true,
      })
    ).count;
  }

  create(delivery: NewDelivery): Promise<WebhookDeliveryRow> {
    return this.db.webhookDelivery.create({
      data: { ...delivery, status: 'pending' },
      select: DELIVERY_FIELDS,
    });
  }

  /**
   * Leases up to `limit` due deliveries of enabled endpoints and connectors to this replica. FOR UPDATE SKIP LOCKED:
   * replicas never claim the same row; the lease lets another replica take over a row whose claimer
   * died mid-attempt (at-least-once: the receiver deduplicates on webhook-id).
   */
  claimDue(limit: number, now: Date, leaseUntil: Date, leaseId: string): Promise<ClaimedDelivery[]> {
    return this.db.$queryRawUnsafe<ClaimedDelivery[]>(
      `UPDATE webhook_deliveries d
          SET lease_id = $4::uuid, lease_until = $3
        WHERE d.id IN (
          SELECT w.id FROM webhook_deliveries w
            LEFT JOIN webhook_endpoints e ON e.id = w.endpoint_id
            LEFT JOIN connectors c ON c.id = w.connector_id
           WHERE w.status = 'pending' AND w.next_attempt_at <= $2
             AND (w.lease_until IS NULL OR w.lease_until < $2) AND (e.enabled OR c.enabled)
           ORDER BY w.next_attempt_at
           LIMIT $1
           FOR UPDATE OF w SKIP LOCKED)
      RETURNING d.id, d.endpoint_id::text AS "endpointId", d.connector_id::text AS "connectorId", d.message_id AS "messageId", d.payload,
                d.sequence, d.attempt_count AS "attemptCount", d.lease_id::text AS "leaseId"`,
      limit,
      now,
      leaseUntil,
      leaseId,
    );
  }

  /**
   * Records one attempt and the delivery's next state, only while this replica still holds the lease
   * (a row deleted or taken over meanwhile records nothing). Returns whether it was recorded.
   */
  async recordAttempt(
    claimed: ClaimedDelivery,
    attempt: Omit<WebhookAttemptRow, 'sequence' | 'attempt'>,
    next: { status: DeliveryStatus; nextAttemptAt: Date | null },
  ): Promise<boolean> {
    const updated = await this.db.webhookDelivery.updateMany({
      where: { id: claimed.id, leaseId: claimed.leaseId, sequence: claimed.sequence },
      data: {
        status: next.status,
        nextAttemptAt: next.nextAttemptAt,
        attemptCount: claimed.attemptCount + 1,
        leaseId: null,
        leaseUntil: null,
      },
    });
    if (updated.count !== 1) return false;
    await this.db.webhookAttempt.create({
      data: {
        ...attempt,
        deliveryId: claimed.id,
        sequence: claimed.sequence,
        attempt: claimed.attemptCount + 1,
      },
    });
    return true;
  }

  /** Pending deliveries of a disabled endpoint or connector end as failed (replayable once enabled). */
  async failPending(target: string | DeliveryTarget): Promise<number> {
    return (
      await this.db.webhookDelivery.updateMany({
        where: { ...targetOf(target), status: 'pending' },
        data: { status: 'failed', nextAttemptAt: null, leaseId: null, leaseUntil: null },
      })
    ).count;
  }

  /** A new attempt sequence of the same message (same message id and body), due now. */
  replay(id: string, now: Date): Promise<WebhookDeliveryRow> {
    return this.db.webhookDelivery.update({
      where: { id },
      data: {
        status: 'pending',
        sequence: { increment: 1 },
        attemptCount: 0,
        nextAttemptAt: now,
        leaseId: null,
        leaseUntil: null,
      },
      select: DELIVERY_FIELDS,
    });
  }

  async find(target: string | DeliveryTarget, id: string): Promise<WebhookDeliveryRow | undefined> {
    return (
      (await this.db.webhookDelivery.findFirst({
        where: { id, ...targetOf(target) },
        select: DELIVERY_FIELDS,
      })) ?? undefined
    );
  }

  /** Newest first, keyset-paged on (created_at, id); `limit + 1` rows tell whether a next page exists. */
  page(target: string | DeliveryTarget, limit: number, after?: Cursor): Promise<WebhookDeliveryRow[]> {
    return this.db.webhookDelivery.findMany({
      where: {
        ...targetOf(target),
        ...(after && {
          OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
        }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      select: DELIVERY_FIELDS,
    });
  }

  /** Attempts of these deliveries, newest first, grouped by delivery id. */
  async attemptsOf(deliveryIds: string[]): Promise<Map<string, WebhookAttemptRow[]>> {
    const rows = await this.db.webhookAttempt.findMany({
      where: { deliveryId: { in: deliveryIds } },
      orderBy: [{ attemptedAt: 'desc' }, { sequence: 'desc' }, { attempt: 'desc' }],
    });
    const grouped = new Map<string, WebhookAttemptRow[]>(deliveryIds.map((id) => [id, []]));
    for (const { deliveryId, ...attempt } of rows) grouped.get(deliveryId)?.push(attempt);
    return grouped;
  }

  /** Finished deliveries (with their attempts) last changed before `before`; returns how many. */
  async purgeFinished(before: Date): Promise<number> {
    return (
      await this.db.webhookDelivery.deleteMany({
        where: { status: { not: 'pending' }, updatedAt: { lt: before } },
      })
    ).count;
  }

  async deleteForUser(userId: string): Promise<number> {
    return (await this.db.webhookDelivery.deleteMany({ where: { userId } })).count;
  }
}

/** A bare id is an endpoint's (the webhooks' callers predate connectors). */
function targetOf(target: string | DeliveryTarget): DeliveryTarget {
  return typeof target === 'string' ? { endpointId: target } : target;
}
