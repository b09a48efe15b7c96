import type { InboundKind, InboundSourceSettings } from './inbound-source.config.js';
import type { InboundDelivery } from './signature.js';

/** What a verified delivery tells about itself, before its body is parsed. */
export interface VerifiedDelivery {
  /** The signed timestamp (Unix seconds), for the kinds that sign one. */
  timestamp?: number;
}

export interface DeliveryIdentity {
  /** What replays are recognised by: X-GitHub-Delivery, the Stripe event id, webhook-id. */
  messageId: string;
  /** X-GitHub-Event, the Stripe event's `type`, the Standard Webhooks payload's `type`; null when absent. */
  eventType: string | null;
}

/** One signing scheme. Both steps throw AppError: UNAUTHENTICATED with the reason, or VALIDATION_FAILED. */
export interface WebhookVerifier {
  readonly kind: InboundKind;
  /** Checks the signature over the raw body with any of the source's secrets, then the timestamp. */
  verify(delivery: InboundDelivery, source: InboundSourceSettings, nowMs: number): VerifiedDelivery;
  /** The message id and event type of a verified delivery whose body parsed as a JSON object. */
  identify(
    delivery: InboundDelivery,
    payload: Record<string, unknown>,
    verified: VerifiedDelivery,
  ): DeliveryIdentity;
}

/** A string member of the payload, or null. */
export function stringMember(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value.length > 0 ? value : null;
}
