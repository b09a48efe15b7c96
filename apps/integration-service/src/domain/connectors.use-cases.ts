import { randomUUID } from 'node:crypto';
import { AppError, type FieldError } from '@te/platform';
import {
  credentialHint,
  credentialRowId,
  isConnectorKind,
  CONNECTOR_KINDS,
  type Connector,
  type ConnectorSettings,
} from '../connectors/connector.js';
import type { ConnectorRegistry } from '../connectors/connector-registry.js';
import {
  ConnectorRepository,
  type ConnectorChanges,
  type ConnectorRow,
  type SealedCredential,
} from '../db/connector.repository.js';
import type { IntegrationDb } from '../db/prisma-client.js';
import { WebhookDeliveryRepository } from '../db/webhook-delivery.repository.js';
import { webhookPayload } from '../delivery/fan-out.js';
import type { SecretCipher } from '../delivery/secret-cipher.js';
import { newWebhookMessageId } from '../webhooks/standard-webhooks.js';
import { pageDeliveries, type DeliveryView } from './webhook-deliveries.use-cases.js';
import { checkEventTypes, requireUuid } from './webhook-endpoint.policy.js';

export const CONNECTOR_TEST_EVENT_TYPE = 'connector.test';
export const MAX_NAME_LENGTH = 100;

export interface ConnectorDeps {
  db: IntegrationDb;
  /** The webhook secrets' cipher: same keys, same rotation (decision 0024). */
  cipher: SecretCipher;
  connectors: ConnectorRegistry;
  maxConnectorsPerUser: number;
  /** Delay of a delivery's first attempt (WEBHOOK_RETRY_SCHEDULE[0]). */
  firstAttemptDelayMs: number;
  /** Wakes the dispatcher after a delivery became due. */
  notify: () => void;
  now?: () => Date;
}

export interface ConnectorInput {
  kind: string;
  name: string;
  eventTypes: string[];
  settings: ConnectorSettings;
  /** Empty: none (http only). */
  credential: string;
  enabled?: boolean;
}

export interface ConnectorUpdate {
  name?: string;
  eventTypes?: string[];
  enabled?: boolean;
  settings?: ConnectorSettings;
  /** Replaces the credential; empty removes it (http only). */
  credential?: string;
}

export async function createConnector(
  userId: string,
  input: ConnectorInput,
  deps: ConnectorDeps,
): Promise<ConnectorRow> {
  const problems: FieldError[] = [];
  const connector = kindOf(input.kind, deps.connectors, problems);
  const name = checkName(input.name, problems);
  const eventTypes = checkEventTypes(input.eventTypes, problems);
  const settings = connector?.checkSettings(input.settings, problems) ?? {};
  const credential = connector ? checkCredential(connector, input.credential, problems) : '';
  throwIfProblems(problems);

  const id = randomUUID();
  return deps.db.$transaction(async (tx) => {
    // One creation per user at a time, so the cap holds under concurrent requests.
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))', `connectors:${userId}`);
    const connectors = new ConnectorRepository(tx);
    if ((await connectors.countForUser(userId)) >= deps.maxConnectorsPerUser) {
      throw new AppError('CONFLICT', `At most ${deps.maxConnectorsPerUser} connectors per user`, {
        details: { limit: deps.maxConnectorsPerUser },
      });
    }
    return connectors.create(
      { id, userId, kind: input.kind, name, eventTypes, enabled: input.enabled ?? true, settings },
      credential ? seal(id, credential, deps.cipher) : null,
    );
  });
}

export function listConnectors(userId: string, deps: Pick<ConnectorDeps, 'db'>): Promise<ConnectorRow[]> {
  return new ConnectorRepository(deps.db).listForUser(userId);
}

export function getConnector(
  userId: string,
  id: string,
  deps: Pick<ConnectorDeps, 'db'>,
): Promise<ConnectorRow> {
  return ownConnector(new ConnectorRepository(deps.db), userId, id);
}

export async function updateConnector(
  userId: string,
  id: string,
  input: ConnectorUpdate,
  deps: ConnectorDeps,
): Promise<ConnectorRow> {
  const connectorId = requireUuid(id, 'id');
  const now = deps.now?.() ?? new Date();
  return deps.db.$transaction(async (tx) => {
    const connectors = new ConnectorRepository(tx);
    const current = await ownConnector(connectors, userId, connectorId);
    const connector = deps.connectors.get(current.kind as Connector['kind']);
    if (!connector) throw new AppError('PRECONDITION_FAILED', 'This kind of connector is no longer offered');

    const problems: FieldError[] = [];
    const changes: ConnectorChanges = {};
    if (input.name !== undefined) changes.name = checkName(input.name, problems);
    if (input.eventTypes !== undefined) changes.eventTypes = checkEventTypes(input.eventTypes, problems);
    if (input.settings !== undefined) changes.settings = connector.checkSettings(input.settings, problems);
    if (input.credential !== undefined) {
      const credential = checkCredential(connector, input.credential, problems);
      changes.credential = credential ? seal(connectorId, credential, deps.cipher) : null;
    }
    throwIfProblems(problems);

    if (input.enabled === true && !current.enabled) {
      // A fresh start: whatever disabled it (its owner, its API, a run of failures) is over.
      Object.assign(changes, { enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    } else if (input.enabled === false && current.enabled) {
      Object.assign(changes, { enabled: false, disabledReason: null, disabledAt: now });
      await new WebhookDeliveryRepository(tx).failPending({ connectorId });
    }
    return connectors.update(connectorId, changes);
  });
}

export async function deleteConnector(
  userId: string,
  id: string,
  deps: Pick<ConnectorDeps, 'db'>,
): Promise<void> {
  const deleted = await new ConnectorRepository(deps.db).delete(userId, requireUuid(id, 'id'));
  if (!deleted) throw notFound();
}

/** A `connector.test` event to this connector only, delivered like any other. */
export async function testConnector(userId: string, id: string, deps: ConnectorDeps): Promise<DeliveryView> {
  const connector = await ownConnector(new ConnectorRepository(deps.db), userId, id);
  if (!connector.enabled) {
    throw new AppError('PRECONDITION_FAILED', 'The connector is disabled; enable it first');
  }
  const now = deps.now?.() ?? new Date();
  const row = await new WebhookDeliveryRepository(deps.db).create({
    id: randomUUID(),
    connectorId: connector.id,
    userId,
    messageId: newWebhookMessageId(),
    eventId: null,
    eventType: CONNECTOR_TEST_EVENT_TYPE,
    payload: webhookPayload(CONNECTOR_TEST_EVENT_TYPE, now.toISOString(), {
      user_id: userId,
      connector_id: connector.id,
      message: 'A test event: your connector is reachable.',
    }),
    nextAttemptAt: new Date(now.getTime() + deps.firstAttemptDelayMs),
  });
  deps.notify();
  return { ...row, attempts: [] };
}

export async function listConnectorDeliveries(
  userId: string,
  connectorId: string,
  input: { pageSize: number; pageToken: string },
  deps: Pick<ConnectorDeps, 'db'>,
): Promise<{ items: DeliveryView[]; nextPageToken: string }> {
  const connector = await ownConnector(new ConnectorRepository(deps.db), userId, connectorId);
  return pageDeliveries({ connectorId: connector.id }, input, deps);
}

/** The caller's connector; another user's (or none) is NOT_FOUND, never FORBIDDEN. */
async function ownConnector(
  connectors: ConnectorRepository,
  userId: string,
  id: string,
): Promise<ConnectorRow> {
  const connector = await connectors.findForUser(userId, requireUuid(id, 'id'));
  if (!connector) throw notFound();
  return connector;
}

function kindOf(kind: string, registry: ConnectorRegistry, problems: FieldError[]): Connector | undefined {
  const connector = isConnectorKind(kind) ? registry.get(kind) : undefined;
  if (!connector) problems.push({ field: 'kind', message: `must be one of: ${CONNECTOR_KINDS.join(', ')}` });
  return connector;
}

function checkName(name: string, problems: FieldError[]): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH || !trimmed.isWellFormed()) {
    problems.push({ field: 'name', message: `must be 1 to ${MAX_NAME_LENGTH} characters of text` });
  }
  return trimmed;
}

function checkCredential(connector: Connector, credential: string, problems: FieldError[]): string {
  if (credential.trim() === '') {
    if (connector.credentialRequired) {
      problems.push({ field: 'credential', message: `is required for a ${connector.kind} connector` });
    }
    return '';
  }
  return connector.checkCredential(credential, problems);
}

function seal(connectorId: string, credential: string, cipher: SecretCipher): SealedCredential {
  return { ...cipher.seal(credentialRowId(connectorId), credential), hint: credentialHint(credential) };
}

function throwIfProblems(problems: FieldError[]): void {
  if (problems.length > 0) throw new AppError('VALIDATION_FAILED', 'Invalid connector', { fields: problems });
}

function notFound(): AppError {
  return new AppError('NOT_FOUND', 'Connector not found');
}
