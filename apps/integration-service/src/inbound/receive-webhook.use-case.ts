import { createHash } from 'node:crypto';
import { AppError, type Logger } from '@te/platform';
import { githubVerifier } from './github.verifier.js';
import { inboundReceivedEvent, type InboundEventOutbox } from './inbound-event.js';
import type { InboundKind, InboundSourceSettings } from './inbound-source.config.js';
import type { ReplayGuard } from './replay-guard.js';
import type { InboundDelivery } from './signature.js';
import { standardWebhooksVerifier } from './standard-webhooks.verifier.js';
import { stripeVerifier } from './stripe.verifier.js';
import type { WebhookVerifier } from './webhook-verifier.js';

const VERIFIERS: Record<InboundKind, WebhookVerifier> = {
  github: githubVerifier,
  stripe: stripeVerifier,
  'standard-webhooks': standardWebhooksVerifier,
};

// Printable ASCII without spaces: it becomes part of a Redis key and of the event.
const MESSAGE_ID = /^[\x21-\x7e]{1,255}$/;

export interface ReceiveWebhookDeps {
  /** The configured sources by id. */
  sources: ReadonlyMap<string, InboundSourceSettings>;
  maxBodyBytes: number;
  replays: Pick<ReplayGuard, 'claim' | 'release'>;
  outbox: Pick<InboundEventOutbox, 'record'>;
  /** `source` of the events this service publishes (its name). */
  producer: string;
  logger: Logger;
  now?: () => number;
}

export interface ReceiveWebhookInput {
  source: string;
  /** Header names in any case. */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/**
 * One inbound delivery: source → size → signature and freshness over the raw body → JSON → message
 * id → replay guard → `integration.inbound.received` through the outbox. A retry of a message already
 * accepted (same id, same body) is answered as a duplicate without a second event.
 */
export async function receiveWebhook(
  input: ReceiveWebhookInput,
  deps: ReceiveWebhookDeps,
): Promise<{ messageId: string; duplicate: boolean }> {
  const source = deps.sources.get(input.source);
  if (!source) throw new AppError('NOT_FOUND', 'No inbound webhook source by that name');
  if (input.body.length > deps.maxBodyBytes)
    throw new AppError('PAYLOAD_TOO_LARGE', `Webhook body is larger than ${deps.maxBodyBytes} bytes`);

  const delivery: InboundDelivery = { headers: lowerCased(input.headers), body: input.body };
  const verifier = VERIFIERS[source.kind];
  const nowMs = (deps.now ?? Date.now)();
  const verified = verifier.verify(delivery, source, nowMs);
  const payload = parseJsonObject(delivery.body);
  const { messageId, eventType } = verifier.identify(delivery, payload, verified);
  if (!MESSAGE_ID.test(messageId))
    throw new AppError('VALIDATION_FAILED', 'The message id is not usable', {
      fields: [
        { field: 'message_id', message: 'must be 1 to 255 printable ASCII characters without spaces' },
      ],
    });

  const claim = {
    source: source.id,
    messageId,
    bodyDigest: createHash('sha256').update(delivery.body).digest('hex'),
    // As long as the delivery could still verify: up to timestamp + tolerance, or the whole window
    // for a kind that signs no timestamp.
    ttlSeconds:
      verified.timestamp === undefined
        ? source.toleranceSeconds
        : verified.timestamp + source.toleranceSeconds - nowMs / 1000 + 1,
    bodyKeyed: source.kind === 'github',
  };
  const log = { source: source.id, kind: source.kind, message_id: messageId, event_type: eventType };
  const verdict = await deps.replays.claim(claim);
  if (verdict === 'conflict')
    throw new AppError('CONFLICT', 'This message id was already received with a different body');
  if (verdict === 'duplicate') {
    deps.logger.info('inbound webhook duplicate ignored', log);
    return { messageId, duplicate: true };
  }

  const event = inboundReceivedEvent(
    {
      source: source.id,
      kind: source.kind,
      message_id: messageId,
      event_type: eventType,
      received_at: new Date(nowMs).toISOString(),
      payload,
    },
    deps.producer,
  );
  try {
    await deps.outbox.record(event);
  } catch (error) {
    await deps.replays
      .release(claim)
      .catch((releaseError: unknown) =>
        deps.logger.warn('inbound webhook claim not released', { ...log, err: releaseError }),
      );
    throw error;
  }
  deps.logger.info('inbound webhook accepted', { ...log, event_id: event.id });
  return { messageId, duplicate: false };
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw notJson('is not valid JSON (send the webhook as application/json)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw notJson('must be a JSON object');
  return value as Record<string, unknown>;
}

function notJson(message: string): AppError {
  return new AppError('VALIDATION_FAILED', `Webhook body ${message}`, {
    fields: [{ field: 'body', message }],
  });
}
