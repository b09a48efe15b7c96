import type { EventEnvelope } from '@te/events';

/**
 * The platform events a user may receive about themselves — by webhook, and on the event stream
 * (GET /api/v1/events). Each carries its owner in `data.user_id` (docs/events.md). Work items
 * (`*.requested`), registry changes and security events (`session.revoked`) are not offered: they
 * are the platform's own business, not the user's.
 */
export const USER_VISIBLE_EVENT_TYPES = [
  'user.registered',
  'context.session.created',
  'context.session.deleted',
  'context.message.created',
  'context.attachment.processed',
  'ai.inference.completed',
  'ai.inference.failed',
  // About the user's own integrations: a webhook endpoint the platform disabled (410, or failing).
  'integration.webhook.endpoint_disabled',
] as const;

export type UserVisibleEventType = (typeof USER_VISIBLE_EVENT_TYPES)[number];

const VISIBLE = new Set<string>(USER_VISIBLE_EVENT_TYPES);

export function isUserVisibleEventType(type: string): type is UserVisibleEventType {
  return VISIBLE.has(type);
}

/** The user an event is about, or undefined when it is not a user-visible event or names no owner. */
export function ownerOf(event: EventEnvelope): string | undefined {
  if (!isUserVisibleEventType(event.type)) return undefined;
  const data = event.data as { user_id?: unknown } | null | undefined;
  return typeof data?.user_id === 'string' && data.user_id !== '' ? data.user_id : undefined;
}
