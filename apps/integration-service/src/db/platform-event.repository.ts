import type { EventEnvelope } from '@te/events';
import type { IntegrationDb } from './prisma-client.js';

export interface RecordedEvent {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  occurredAt: Date;
  receivedAt: Date;
  data: unknown;
}

type Queryable = Pick<IntegrationDb, 'platformEvent'>;

export class PlatformEventRepository {
  constructor(private readonly db: Queryable) {}

  async record(event: EventEnvelope): Promise<void> {
    await this.db.platformEvent.create({
      data: {
        id: event.id,
        type: event.type,
        source: event.source,
        subject: event.subject ?? null,
        occurredAt: new Date(event.time),
        data: event.data as object,
        requestId: event.request_id ?? null,
        traceparent: event.traceparent ?? null,
      },
    });
  }

  async findById(id: string): Promise<RecordedEvent | undefined> {
    return (await this.db.platformEvent.findUnique({ where: { id } })) ?? undefined;
  }
}
