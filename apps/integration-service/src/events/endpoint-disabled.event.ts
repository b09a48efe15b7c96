import { createEvent, enqueueEvent, type EventEnvelope, type SqlExecutor } from '@te/events';

/** Published (outbox) when the platform disables a user's webhook endpoint (docs/events.md). */
export const ENDPOINT_DISABLED = 'integration.webhook.endpoint_disabled';

export type EndpointDisabledReason = 'gone' | 'failing';

export interface EndpointDisabledData {
  user_id: string;
  endpoint_id: string;
  /** `gone`: the endpoint answered 410; `failing`: every attempt failed for WEBHOOK_DISABLE_AFTER. */
  reason: EndpointDisabledReason;
  /** RFC 3339: the first failed attempt of the run of failures (null for `gone` after a success). */
  failing_since: string | null;
  disabled_at: string;
}

export async function enqueueEndpointDisabled(
  tx: SqlExecutor,
  data: EndpointDisabledData,
  producer: string,
): Promise<EventEnvelope<EndpointDisabledData>> {
  const event = createEvent({ type: ENDPOINT_DISABLED, source: producer, subject: data.user_id, data });
  await enqueueEvent(tx, event);
  return event;
}
