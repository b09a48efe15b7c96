import { credentialRowId, type ConnectorKind, type ConnectorVerdict } from '../connectors/connector.js';
import { ConnectorRepository, type ConnectorRow } from '../db/connector.repository.js';
import { WebhookDeliveryRepository, type ClaimedDelivery } from '../db/webhook-delivery.repository.js';
import type { Queryable } from '../db/webhook-endpoint.repository.js';
import type { OutboundResult } from '../outbound/index.js';
import {
  MAX_EXCERPT_BYTES,
  nextState,
  truncateUtf8,
  type AttemptDeps,
  type Outcome,
} from './attempt-delivery.js';
import type { SecretCipher } from './secret-cipher.js';
import { nextHealth } from './target-health.js';

/** A connector's outcome: the webhook one, plus "disable the connector" (its API said it is gone). */
interface ConnectorOutcome extends Outcome {
  disableReason?: string;
}

/**
 * One attempt of a leased delivery to a connector (decision 0024) — the same schedule, lease, log and
 * retry policy as a webhook attempt (attempt-delivery.ts); the connector's kind builds the request
 * from the stored event and reads the answer (success, retry after, fail, disable). The credential
 * is decrypted for this attempt only, re-sealed under the current key when an older one sealed it,
 * and never logged: not the Slack URL, not the auth header.
 */
export async function attemptConnectorDelivery(claimed: ClaimedDelivery, deps: AttemptDeps): Promise<void> {
  const connectorId = claimed.connectorId;
  if (!connectorId) return;
  const connectors = new ConnectorRepository(deps.db);
  const row = await connectors.findById(connectorId);
  if (!row) return; // deleted meanwhile: its deliveries went with it
  const sentAt = new Date();
  const outcome = await send(claimed, row, deps);
  const finishedAt = new Date();

  let disabledReason: string | undefined;
  const recorded = await deps.db.$transaction(async (tx) => {
    const attempt = {
      id: crypto.randomUUID(),
      attemptedAt: sentAt,
      responseStatus: outcome.responseStatus,
      latencyMs: outcome.latencyMs,
      responseExcerpt: outcome.responseExcerpt,
      errorClass: outcome.errorClass,
      errorMessage: outcome.errorMessage,
      succeeded: outcome.succeeded,
    };
    const next = nextState(claimed, outcome, finishedAt, deps.retry);
    if (!(await new WebhookDeliveryRepository(tx).recordAttempt(claimed, attempt, next))) return false;
    disabledReason = await updateHealth(tx, connectorId, outcome, sentAt, finishedAt, deps.disableAfterMs);
    return true;
  });
  deps.logger.info('connector attempt', {
    delivery_id: claimed.id,
    connector_id: connectorId,
    kind: row.kind,
    message_id: claimed.messageId,
    attempt: claimed.attemptCount + 1,
    sequence: claimed.sequence,
    succeeded: outcome.succeeded,
    status: outcome.responseStatus,
    error_class: outcome.errorClass,
    latency_ms: outcome.latencyMs,
    recorded,
    ...(disabledReason && { connector_disabled: disabledReason }),
  });
}

async function send(
  claimed: ClaimedDelivery,
  row: ConnectorRow,
  deps: AttemptDeps,
): Promise<ConnectorOutcome> {
  const connector = deps.connectors.get(row.kind as ConnectorKind);
  if (!connector) return unusable(`unknown connector kind ${JSON.stringify(row.kind).slice(0, 40)}`);
  let credential: string | undefined;
  try {
    credential = await openCredential(row.id, deps);
  } catch (error) {
    // A key missing from the configuration: retried (an operator can restore it), never sent without.
    deps.logger.error('connector credential cannot be decrypted', { connector_id: row.id, err: error });
    return {
      ...unusable('the credential cannot be decrypted'),
      retryable: true,
      errorClass: 'credential_unreadable',
    };
  }
  if (connector.credentialRequired && !credential) return unusable('the connector has no credential');
  let request;
  try {
    request = connector.buildRequest(
      { messageId: claimed.messageId, payload: claimed.payload },
      row.settings,
      credential,
    );
  } catch {
    return unusable('the connector cannot build a request from its settings');
  }
  const result = await deps.sender.send(request);
  const outcome = outcomeOf(result, (response) => connector.classify(response));
  // Defence in depth: a failure message never quotes the credential (a Slack URL is one).
  if (credential && outcome.errorMessage?.includes(credential)) {
    outcome.errorMessage = outcome.errorMessage.replaceAll(credential, '[credential]');
  }
  return outcome;
}

/** The plaintext credential, re-sealed under the current key if an older (retired) key sealed it. */
async function openCredential(connectorId: string, deps: AttemptDeps): Promise<string | undefined> {
  const connectors = new ConnectorRepository(deps.db);
  const sealed = await connectors.credentialOf(connectorId);
  if (!sealed) return undefined;
  const credential = deps.cipher.open(credentialRowId(connectorId), sealed);
  if (sealed.keyId !== deps.cipher.currentKeyId)
    await reseal(connectors, connectorId, sealed.keyId, credential, deps);
  return credential;
}

async function reseal(
  connectors: ConnectorRepository,
  connectorId: string,
  previousKeyId: string,
  credential: string,
  deps: { cipher: SecretCipher; logger: AttemptDeps['logger'] },
): Promise<void> {
  try {
    const resealed = await connectors.resealCredential(
      connectorId,
      previousKeyId,
      deps.cipher.seal(credentialRowId(connectorId), credential),
    );
    if (resealed) {
      deps.logger.info('connector credential re-encrypted under the current key', {
        connector_id: connectorId,
        from_key_id: previousKeyId,
        to_key_id: deps.cipher.currentKeyId,
      });
    }
  } catch (error) {
    // The attempt goes on; the next one tries again.
    deps.logger.warn('connector credential could not be re-encrypted', {
      connector_id: connectorId,
      err: error,
    });
  }
}

function unusable(message: string): ConnectorOutcome {
  return {
    succeeded: false,
    gone: false,
    retryable: false,
    responseStatus: null,
    latencyMs: 0,
    responseExcerpt: null,
    errorClass: 'invalid_connector',
    errorMessage: message,
  };
}

function outcomeOf(
  result: OutboundResult,
  classify: (response: Extract<OutboundResult, { outcome: 'response' }>) => ConnectorVerdict,
): ConnectorOutcome {
  if (result.outcome === 'failure') {
    return {
      succeeded: false,
      gone: false,
      retryable: result.retryable,
      responseStatus: null,
      latencyMs: result.latencyMs,
      responseExcerpt: null,
      errorClass: result.error,
      errorMessage: result.message.slice(0, 500),
    };
  }
  const verdict = classify(result);
  const succeeded = verdict.result === 'success';
  return {
    succeeded,
    gone: false,
    retryable: verdict.result === 'retry',
    ...(verdict.result === 'retry' && verdict.afterMs !== undefined && { retryAfterMs: verdict.afterMs }),
    ...(verdict.result === 'disable' && { disableReason: verdict.reason }),
    responseStatus: result.status,
    latencyMs: result.latencyMs,
    responseExcerpt: truncateUtf8(result.excerpt.replaceAll('\u0000', ''), MAX_EXCERPT_BYTES),
    errorClass: succeeded ? null : 'http_status',
    errorMessage: succeeded ? null : `the connector's API answered HTTP ${result.status}`,
  };
}

/**
 * The connector's health, under a row lock (concurrent attempts disable it once): a success clears
 * the run of failures; a `disable` verdict, or failing for `disableAfterMs`, disables it and fails its
 * pending deliveries. Returns the reason when this attempt disabled it.
 */
async function updateHealth(
  tx: Queryable,
  connectorId: string,
  outcome: ConnectorOutcome,
  sentAt: Date,
  finishedAt: Date,
  disableAfterMs: number,
): Promise<string | undefined> {
  const [current] = await tx.$queryRawUnsafe<{ enabled: boolean; failing_since: Date | null }[]>(
    'SELECT enabled, failing_since FROM connectors WHERE id = $1::uuid FOR UPDATE',
    connectorId,
  );
  if (!current) return undefined;
  const connectors = new ConnectorRepository(tx);
  const change = nextHealth(
    { enabled: current.enabled, failingSince: current.failing_since },
    { succeeded: outcome.succeeded, disableReason: outcome.disableReason, sentAt, finishedAt },
    disableAfterMs,
  );
  if (change.kind === 'recovered') await connectors.update(connectorId, { failingSince: null });
  if (change.kind === 'failing') await connectors.update(connectorId, { failingSince: change.failingSince });
  if (change.kind !== 'disable') return undefined;
  const { reason, failingSince } = change;
  await connectors.update(connectorId, {
    enabled: false,
    disabledReason: reason,
    disabledAt: finishedAt,
    failingSince,
  });
  await new WebhookDeliveryRepository(tx).failPending({ connectorId });
  return reason;
}
