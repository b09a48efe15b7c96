import type { Logger } from '@te/platform';
import type { IntegrationDb } from '../db/prisma-client.js';
import {
  WebhookDeliveryRepository,
  type ClaimedDelivery,
  type DeliveryStatus,
} from '../db/webhook-delivery.repository.js';
import { WebhookEndpointRepository, type Queryable } from '../db/webhook-endpoint.repository.js';
import { enqueueEndpointDisabled, type EndpointDisabledReason } from '../events/endpoint-disabled.event.js';
import type { ConnectorRegistry } from '../connectors/connector-registry.js';
import type { OutboundHttpSender, OutboundResult } from '../outbound/index.js';
import { webhookHeaders } from '../webhooks/standard-webhooks.js';
import { nextAttemptDelay, type RetryPolicy } from './retry-policy.js';
import type { SecretCipher } from './secret-cipher.js';
import { nextHealth } from './target-health.js';

/** The delivery log keeps this much of a response body. */
export const MAX_EXCERPT_BYTES = 1024;

export interface AttemptDeps {
  db: IntegrationDb;
  sender: Pick<OutboundHttpSender, 'send'>;
  cipher: SecretCipher;
  retry: RetryPolicy;
  /** An endpoint whose every attempt failed for this long is disabled (WEBHOOK_DISABLE_AFTER). */
  disableAfterMs: number;
  /** `source` of the endpoint_disabled event. */
  producer: string;
  /** Publishes the outbox now (an endpoint_disabled event was written). */
  publishNow: () => void;
  /** The kinds of connector a delivery may target (decision 0024). */
  connectors: ConnectorRegistry;
  logger: Logger;
}

export interface Outcome {
  succeeded: boolean;
  /** 410 Gone: the receiver says the endpoint no longer exists. */
  gone: boolean;
  retryable: boolean;
  retryAfterMs?: number;
  responseStatus: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  errorClass: string | null;
  errorMessage: string | null;
}

/**
 * One attempt of a leased delivery: sign with every secret that signs now (two during a rotation
 * overlap), POST through the SSRF-safe sender, then — in one transaction, only while the lease is
 * still ours — record the attempt, plan the next one (schedule, Retry-After) or finish, and keep
 * the endpoint's health: 410 disables it at once, failing for `disableAfterMs` disables it too, and
 * either tells the owner through `integration.webhook.endpoint_disabled`.
 */
export async function attemptDelivery(claimed: ClaimedDelivery, deps: AttemptDeps): Promise<void> {
  const endpointId = claimed.endpointId;
  if (!endpointId) return; // a connector's: attemptConnectorDelivery
  const endpoint = await new WebhookEndpointRepository(deps.db).findById(endpointId);
  if (!endpoint) return; // deleted meanwhile: its deliveries went with it
  const sentAt = new Date();
  const secrets = (await new WebhookEndpointRepository(deps.db).signingSecrets(endpoint.id, sentAt)).map(
    (row) => deps.cipher.open(row.id, row),
  );
  const result = await deps.sender.send({
    url: endpoint.url,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...webhookHeaders({ id: claimed.messageId, timestamp: sentAt, body: claimed.payload, secrets }),
    },
    body: claimed.payload,
  });
  const outcome = outcomeOf(result);
  const finishedAt = new Date();

  let disabledReason: EndpointDisabledReason | undefined;
  const recorded = await deps.db.$transaction(async (tx) => {
    const next = nextState(claimed, outcome, finishedAt, deps.retry);
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
    if (!(await new WebhookDeliveryRepository(tx).recordAttempt(claimed, attempt, next))) return false;
    disabledReason = await updateHealth(tx, endpointId, outcome, sentAt, finishedAt, deps);
    return true;
  });
  if (disabledReason) deps.publishNow();
  deps.logger.info('webhook attempt', {
    delivery_id: claimed.id,
    endpoint_id: endpointId,
    message_id: claimed.messageId,
    attempt: claimed.attemptCount + 1,
    sequence: claimed.sequence,
    succeeded: outcome.succeeded,
    status: outcome.responseStatus,
    error_class: outcome.errorClass,
    latency_ms: outcome.latencyMs,
    recorded,
    ...(disabledReason && { endpoint_disabled: disabledReason }),
  });
}

function outcomeOf(result: OutboundResult): Outcome {
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
  const succeeded = result.status >= 200 && result.status < 300;
  const excerpt = truncateUtf8(result.excerpt.replaceAll('\u0000', ''), MAX_EXCERPT_BYTES);
  return {
    succeeded,
    gone: result.status === 410,
    retryable: result.status !== 410,
    ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
    responseStatus: result.status,
    latencyMs: result.latencyMs,
    responseExcerpt: excerpt,
    errorClass: succeeded ? null : 'http_status',
    errorMessage: succeeded ? null : `the endpoint answered HTTP ${result.status}`,
  };
}

export function nextState(
  claimed: ClaimedDelivery,
  outcome: Outcome,
  finishedAt: Date,
  retry: RetryPolicy,
): { status: DeliveryStatus; nextAttemptAt: Date | null } {
  if (outcome.succeeded) return { status: 'succeeded', nextAttemptAt: null };
  const delay = outcome.retryable
    ? nextAttemptDelay(retry, claimed.attemptCount + 1, outcome.retryAfterMs)
    : undefined;
  if (delay === undefined) return { status: 'failed', nextAttemptAt: null };
  return { status: 'pending', nextAttemptAt: new Date(finishedAt.getTime() + delay) };
}

/** Returns the reason when this attempt disabled the endpoint. */
async function updateHealth(
  tx: Queryable,
  endpointId: string,
  outcome: Outcome,
  sentAt: Date,
  finishedAt: Date,
  deps: AttemptDeps,
): Promise<EndpointDisabledReason | undefined> {
  // The row lock orders concurrent attempts to one endpoint: one of them disables it, once.
  const [current] = await tx.$queryRawUnsafe<
    { user_id: string; enabled: boolean; failing_since: Date | null }[]
  >(
    'SELECT user_id::text, enabled, failing_since FROM webhook_endpoints WHERE id = $1::uuid FOR UPDATE',
    endpointId,
  );
  if (!current) return undefined;
  const endpoints = new WebhookEndpointRepository(tx);
  const change = nextHealth(
    { enabled: current.enabled, failingSince: current.failing_since },
    { succeeded: outcome.succeeded, ...(outcome.gone && { disableReason: 'gone' }), sentAt, finishedAt },
    deps.disableAfterMs,
  );
  if (change.kind === 'recovered') await endpoints.update(endpointId, { failingSince: null });
  if (change.kind === 'failing') await endpoints.update(endpointId, { failingSince: change.failingSince });
  if (change.kind !== 'disable') return undefined;
  const reason = change.reason as EndpointDisabledReason;
  const { failingSince } = change;
  await endpoints.update(endpointId, {
    enabled: false,
    disabledReason: reason,
    disabledAt: finishedAt,
    failingSince,
  });
  await new WebhookDeliveryRepository(tx).failPending(endpointId);
  await enqueueEndpointDisabled(
    tx,
    {
      user_id: current.user_id,
      endpoint_id: endpointId,
      reason,
      failing_since: failingSince.toISOString(),
      disabled_at: finishedAt.toISOString(),
    },
    deps.producer,
  );
  return reason;
}

/** At most `maxBytes` of UTF-8, cut on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes), { stream: true });
}
