import { randomUUID } from 'node:crypto';
import { AppError, type FieldError } from '@te/platform';
import {
  WebhookDeliveryRepository,
  type Cursor,
  type DeliveryTarget,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
} from '../db/webhook-delivery.repository.js';
import { WebhookEndpointRepository } from '../db/webhook-endpoint.repository.js';
import { webhookPayload } from '../delivery/fan-out.js';
import { newWebhookMessageId } from '../webhooks/standard-webhooks.js';
import { isUuid, requireUuid } from './webhook-endpoint.policy.js';
import { ownEndpoint, type WebhookEndpointDeps } from './webhook-endpoints.use-cases.js';

export const TEST_EVENT_TYPE = 'webhook.test';
export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

export interface WebhookDeliveryDeps extends Pick<WebhookEndpointDeps, 'db' | 'now'> {
  /** Delay of a delivery's first attempt (WEBHOOK_RETRY_SCHEDULE[0]). */
  firstAttemptDelayMs: number;
  /** Wakes the dispatcher after a delivery became due. */
  notify: () => void;
}

export interface DeliveryView extends WebhookDeliveryRow {
  attempts: WebhookAttemptRow[];
}

export async function listDeliveries(
  userId: string,
  endpointId: string,
  input: { pageSize: number; pageToken: string },
  deps: WebhookDeliveryDeps,
): Promise<{ items: DeliveryView[]; nextPageToken: string }> {
  const endpoint = await ownEndpoint(new WebhookEndpointRepository(deps.db), userId, endpointId);
  return pageDeliveries({ endpointId: endpoint.id }, input, deps);
}

/** One page of a target's delivery log (webhook endpoint or connector), newest first, with attempts. */
export async function pageDeliveries(
  target: DeliveryTarget,
  input: { pageSize: number; pageToken: string },
  deps: Pick<WebhookDeliveryDeps, 'db'>,
): Promise<{ items: DeliveryView[]; nextPageToken: string }> {
  const problems: FieldError[] = [];
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > MAX_PAGE_SIZE) {
    problems.push({ field: 'page_size', message: `must be between 1 and ${MAX_PAGE_SIZE}` });
  }
  const after = input.pageToken === '' ? undefined : decodeCursor(input.pageToken);
  if (after === null) problems.push({ field: 'page_token', message: 'is not a valid page token' });
  if (problems.length) throw new AppError('VALIDATION_FAILED', 'Invalid page request', { fields: problems });

  const limit = input.pageSize || DEFAULT_PAGE_SIZE;
  const deliveries = new WebhookDeliveryRepository(deps.db);
  const rows = await deliveries.page(target, limit, after ?? undefined);
  const items = rows.slice(0, limit);
  const attempts = await deliveries.attemptsOf(items.map((row) => row.id));
  const last = items.at(-1);
  return {
    items: items.map((row) => ({ ...row, attempts: attempts.get(row.id) ?? [] })),
    nextPageToken: rows.length > limit && last ? encodeCursor(last) : '',
  };
}

export async function getDelivery(
  userId: string,
  endpointId: string,
  deliveryId: string,
  deps: WebhookDeliveryDeps,
): Promise<DeliveryView> {
  const endpoint = await ownEndpoint(new WebhookEndpointRepository(deps.db), userId, endpointId);
  const deliveries = new WebhookDeliveryRepository(deps.db);
  const row = await deliveries.find(endpoint.id, requireUuid(deliveryId, 'delivery_id'));
  if (!row) throw new AppError('NOT_FOUND', 'Webhook delivery not found');
  return { ...row, attempts: (await deliveries.attemptsOf([row.id])).get(row.id) ?? [] };
}

/** The same message again (same webhook-id and body), in a new attempt sequence due now. */
export async function replayDelivery(
  userId: string,
  endpointId: string,
  deliveryId: string,
  deps: WebhookDeliveryDeps,
): Promise<DeliveryView> {
  const id = requireUuid(deliveryId, 'delivery_id');
  const now = deps.now?.() ?? new Date();
  const replayed = await deps.db.$transaction(async (tx) => {
    const endpoint = await ownEndpoint(new WebhookEndpointRepository(tx), userId, endpointId);
    if (!endpoint.enabled) throw disabled();
    const deliveries = new WebhookDeliveryRepository(tx);
    const row = await deliveries.find(endpoint.id, id);
    if (!row) throw new AppError('NOT_FOUND', 'Webhook delivery not found');
    return deliveries.replay(row.id, new Date(now.getTime() + deps.firstAttemptDelayMs));
  });
  deps.notify();
  return getDelivery(userId, endpointId, replayed.id, deps);
}

/** A `webhook.test` event to this endpoint only, delivered like any other. */
export async function sendTestEvent(
  userId: string,
  endpointId: string,
  deps: WebhookDeliveryDeps,
): Promise<DeliveryView> {
  const endpoint = await ownEndpoint(new WebhookEndpointRepository(deps.db), userId, endpointId);
  if (!endpoint.enabled) throw disabled();
  const now = deps.now?.() ?? new Date();
  const row = await new WebhookDeliveryRepository(deps.db).create({
    id: randomUUID(),
    endpointId: endpoint.id,
    userId,
    messageId: newWebhookMessageId(),
    eventId: null,
    eventType: TEST_EVENT_TYPE,
    payload: webhookPayload(TEST_EVENT_TYPE, now.toISOString(), {
      user_id: userId,
      endpoint_id: endpoint.id,
      message: 'A test event: your endpoint is reachable and verifies signatures.',
    }),
    nextAttemptAt: new Date(now.getTime() + deps.firstAttemptDelayMs),
  });
  deps.notify();
  return { ...row, attempts: [] };
}

function disabled(): AppError {
  return new AppError('PRECONDITION_FAILED', 'The webhook endpoint is disabled; enable it first');
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), id: cursor.id })).toString(
    'base64url',
  );
}

/** null: not a token this service made. */
function decodeCursor(token: string): Cursor | null {
  if (token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      t?: unknown;
      id?: unknown;
    };
    if (typeof parsed.t !== 'string' || typeof parsed.id !== 'string' || !isUuid(parsed.id)) return null;
    const createdAt = new Date(parsed.t);
    return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id: parsed.id.toLowerCase() };
  } catch {
    return null;
  }
}
