import { createEvent, enqueueEvent, type EventEnvelope, type SqlExecutor } from '@te/events';
import type { InboundKind } from './inbound-source.config.js';

/** Published once per accepted delivery (docs/events.md). */
export const INBOUND_RECEIVED = 'integration.inbound.received';

export interface InboundReceivedData {
  /** The source id (INBOUND_SOURCES). */
  source: string;
  kind: InboundKind;
  message_id: string;
  event_type: string | null;
  /** RFC 3339, when this service accepted it. */
  received_at: string;
  /** The delivery's body, parsed (a JSON object; at most INBOUND_MAX_BODY_BYTES as sent). */
  payload: Record<string, unknown>;
}

export function inboundReceivedEvent(
  data: InboundReceivedData,
  producer: string,
): EventEnvelope<InboundReceivedData> {
  return createEvent({ type: INBOUND_RECEIVED, source: producer, subject: data.source, data });
}

/** Accepted deliveries go out through the transactional outbox (published by the relay). */
export class InboundEventOutbox {
  constructor(
    private readonly db: SqlExecutor,
    private readonly publishNow: () => void,
  ) {}

  async record(event: EventEnvelope<InboundReceivedData>): Promise<void> {
    await enqueueEvent(this.db, event);
    this.publishNow();
  }
}
