import { randomUUID } from 'node:crypto';
import { AppError, type FieldError } from '@te/platform';
import type { IntegrationDb } from '../db/prisma-client.js';
import { WebhookDeliveryRepository } from '../db/webhook-delivery.repository.js';
import {
  WebhookEndpointRepository,
  type EndpointChanges,
  type WebhookEndpointRow,
} from '../db/webhook-endpoint.repository.js';
import type { SecretCipher } from '../delivery/secret-cipher.js';
import type { DestinationPolicy } from '../outbound/index.js';
import { generateWebhookSecret } from '../webhooks/standard-webhooks.js';
import {
  checkDescription,
  checkEndpointUrl,
  checkEventTypes,
  requireUuid,
  throwIfProblems,
} from './webhook-endpoint.policy.js';

export interface WebhookEndpointDeps {
  db: IntegrationDb;
  cipher: SecretCipher;
  /** WEBHOOK_ALLOWED_DESTINATIONS: which http:// and special addresses are allowed (dev/tests). */
  destinations: DestinationPolicy;
  maxEndpointsPerUser: number;
  rotationOverlapMs: number;
  now?: () => Date;
}

export interface WebhookEndpointView extends WebhookEndpointRow {
  /** End of a running rotation overlap. */
  previousSecretExpiresAt?: Date;
}

export interface EndpointInput {
  url: string;
  eventTypes: string[];
  description: string;
  enabled?: boolean;
}

export async function createEndpoint(
  userId: string,
  input: EndpointInput,
  deps: WebhookEndpointDeps,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const problems: FieldError[] = [];
  const url = checkEndpointUrl(input.url, deps.destinations, problems);
  const eventTypes = checkEventTypes(input.eventTypes, problems);
  const description = checkDescription(input.description, problems);
  throwIfProblems(problems);

  const secret = generateWebhookSecret();
  const secretId = randomUUID();
  const endpoint = await deps.db.$transaction(async (tx) => {
    // One creation per user at a time, so the cap holds under concurrent requests.
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))', `webhooks:${userId}`);
    const endpoints = new WebhookEndpointRepository(tx);
    if ((await endpoints.countForUser(userId)) >= deps.maxEndpointsPerUser) {
      throw new AppError('CONFLICT', `At most ${deps.maxEndpointsPerUser} webhook endpoints per user`, {
        details: { limit: deps.maxEndpointsPerUser },
      });
    }
    return endpoints.create(
      { id: randomUUID(), userId, url, description, eventTypes, enabled: input.enabled ?? true },
      { id: secretId, ...deps.cipher.seal(secretId, secret) },
    );
  });
  return { endpoint, secret };
}

export async function listEndpoints(
  userId: string,
  deps: WebhookEndpointDeps,
): Promise<WebhookEndpointView[]> {
  const endpoints = new WebhookEndpointRepository(deps.db);
  const rows = await endpoints.listForUser(userId);
  return Promise.all(rows.map((row) => withOverlap(row, endpoints, deps)));
}

export async function getEndpoint(
  userId: string,
  id: string,
  deps: WebhookEndpointDeps,
): Promise<WebhookEndpointView> {
  const endpoints = new WebhookEndpointRepository(deps.db);
  return withOverlap(await ownEndpoint(endpoints, userId, id), endpoints, deps);
}

export async function updateEndpoint(
  userId: string,
  id: string,
  input: Partial<EndpointInput>,
  deps: WebhookEndpointDeps,
): Promise<WebhookEndpointView> {
  const endpointId = requireUuid(id, 'id');
  const problems: FieldError[] = [];
  const changes: EndpointChanges = {};
  if (input.url !== undefined) changes.url = checkEndpointUrl(input.url, deps.destinations, problems);
  if (input.eventTypes !== undefined) changes.eventTypes = checkEventTypes(input.eventTypes, problems);
  if (input.description !== undefined) changes.description = checkDescription(input.description, problems);
  throwIfProblems(problems);

  const now = deps.now?.() ?? new Date();
  const updated = await deps.db.$transaction(async (tx) => {
    const endpoints = new WebhookEndpointRepository(tx);
    const current = await ownEndpoint(endpoints, userId, endpointId);
    if (input.enabled === true && !current.enabled) {
      // A fresh start: whatever disabled it (its owner, 410, a run of failures) is over.
      Object.assign(changes, { enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    } else if (input.enabled === false && current.enabled) {
      Object.assign(changes, { enabled: false, disabledReason: null, disabledAt: now });
      await new WebhookDeliveryRepository(tx).failPending(endpointId);
    }
    return endpoints.update(endpointId, changes);
  });
  return withOverlap(updated, new WebhookEndpointRepository(deps.db), deps);
}

export async function deleteEndpoint(userId: string, id: string, deps: WebhookEndpointDeps): Promise<void> {
  const deleted = await new WebhookEndpointRepository(deps.db).delete(userId, requireUuid(id, 'id'));
  if (!deleted) throw notFound();
}

/** A new current secret, shown once; the previous one signs beside it for the overlap. */
export async function rotateSecret(
  userId: string,
  id: string,
  deps: WebhookEndpointDeps,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const endpointId = requireUuid(id, 'id');
  const secret = generateWebhookSecret();
  const secretId = randomUUID();
  const now = deps.now?.() ?? new Date();
  const endpoint = await deps.db.$transaction(async (tx) => {
    const endpoints = new WebhookEndpointRepository(tx);
    const current = await ownEndpoint(endpoints, userId, endpointId);
    // Serialise rotations of one endpoint (two at once would both keep "the previous" secret).
    await tx.$queryRawUnsafe('SELECT 1 FROM webhook_endpoints WHERE id = $1::uuid FOR UPDATE', endpointId);
    await endpoints.rotateSecret(
      endpointId,
      { id: secretId, ...deps.cipher.seal(secretId, secret) },
      new Date(now.getTime() + deps.rotationOverlapMs),
      now,
    );
    return endpoints.update(current.id, {}); // touches updated_at
  });
  return { endpoint: await withOverlap(endpoint, new WebhookEndpointRepository(deps.db), deps), secret };
}

/** The caller's endpoint; another user's (or none) is NOT_FOUND, never FORBIDDEN. */
export async function ownEndpoint(
  endpoints: WebhookEndpointRepository,
  userId: string,
  id: string,
): Promise<WebhookEndpointRow> {
  const endpoint = await endpoints.findForUser(userId, requireUuid(id, 'id'));
  if (!endpoint) throw notFound();
  return endpoint;
}

function notFound(): AppError {
  return new AppError('NOT_FOUND', 'Webhook endpoint not found');
}

async function withOverlap(
  row: WebhookEndpointRow,
  endpoints: WebhookEndpointRepository,
  deps: WebhookEndpointDeps,
): Promise<WebhookEndpointView> {
  const ends = await endpoints.overlapEndsAt(row.id, deps.now?.() ?? new Date());
  return ends ? { ...row, previousSecretExpiresAt: ends } : row;
}
