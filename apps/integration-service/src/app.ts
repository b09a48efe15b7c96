import { loadProtos } from '@te/grpc';
import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { IntegrationServiceConfig } from './config.js';
import { createConnectorRegistry } from './connectors/connector-registry.js';
import { createIntegrationDb } from './db/prisma-client.js';
import { WebhookDeliveryRepository } from './db/webhook-delivery.repository.js';
import { SecretCipher } from './delivery/secret-cipher.js';
import { WebhookDispatcher } from './delivery/webhook-dispatcher.js';
import { EventLog } from './event-stream/event-log.js';
import { EVENT_LOG_BINDINGS, EVENT_LOG_QUEUE, eventLogConsumer } from './event-stream/event-log.consumer.js';
import { LiveTail } from './event-stream/live-tail.js';
import { CONSUMED_EVENT_TYPES, platformEventConsumer } from './events/platform-event.consumer.js';
import { eventStreamHandlers } from './grpc/event-stream.handlers.js';
import { inboundWebhookHandlers } from './grpc/inbound-webhooks.handlers.js';
import { InboundEventOutbox } from './inbound/inbound-event.js';
import { ReplayGuard } from './inbound/replay-guard.js';
import { connectorHandlers } from './grpc/connectors.handlers.js';
import { webhookHandlers } from './grpc/webhooks.handlers.js';
import { createDestinationPolicy, OutboundHttpSender } from './outbound/index.js';
import { MAX_EXCERPT_BYTES } from './delivery/attempt-delivery.js';

/** Scheduler job that deletes finished deliveries older than WEBHOOK_LOG_RETENTION. */
export const WEBHOOK_LOG_PURGE_JOB = 'webhook-log-purge';

/** Composition root: the service defaults plus what is integration-service's own. Nothing runs until start(). */
export function createIntegrationServiceApp(
  config: IntegrationServiceConfig,
  options: { logger?: Logger } = {},
): ServiceHost {
  const database = createIntegrationDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({ config, database, logger: options.logger });

  host.consume({
    queue: 'integration-service.platform-events',
    bindings: CONSUMED_EVENT_TYPES,
    handler: platformEventConsumer(database.db, host.logger, {
      firstAttemptDelayMs: config.WEBHOOK_RETRY_SCHEDULE[0],
      onDeliveriesCreated: () => webhooks.notify(),
    }),
  });

  // Outbound webhooks (decision 0022): te.integration.v1.Webhooks, and the dispatcher that attempts
  // the deliveries the consumer above writes (pending rows in PostgreSQL are the schedule).
  const cipher = SecretCipher.fromConfig(
    config.WEBHOOK_SECRET_ENCRYPTION_KEY,
    config.WEBHOOK_SECRET_DECRYPTION_KEYS,
  );
  if (cipher.isDevelopmentKey) {
    host.logger.warn(
      'WEBHOOK_SECRET_ENCRYPTION_KEY is unset: webhook secrets use the public development key',
    );
  }
  const destinations = createDestinationPolicy(config.WEBHOOK_ALLOWED_DESTINATIONS);
  // Connectors (decision 0024) are delivery targets beside endpoints: the same dispatcher attempts
  // both; their credentials use the webhook secrets' cipher (same keys, same rotation).
  const connectors = createConnectorRegistry({
    destinations,
    slackWebhookPrefixes: config.CONNECTOR_SLACK_WEBHOOK_PREFIXES,
  });
  const webhooks = new WebhookDispatcher({
    db: database.db,
    sender: new OutboundHttpSender({
      allow: config.WEBHOOK_ALLOWED_DESTINATIONS,
      totalTimeoutMs: config.WEBHOOK_REQUEST_TIMEOUT_MS,
      maxExcerptBytes: MAX_EXCERPT_BYTES,
    }),
    cipher,
    retry: { schedule: config.WEBHOOK_RETRY_SCHEDULE, retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX },
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER,
    producer: config.SERVICE_NAME,
    publishNow: () => host.relay.notify(),
    connectors,
    concurrency: config.WEBHOOK_DELIVERY_CONCURRENCY,
    pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
    leaseMs: config.WEBHOOK_REQUEST_TIMEOUT_MS + 30_000,
    logger: host.logger,
  });
  host.grpc.addService(
    loadProtos().te.integration.v1.Webhooks.service,
    webhookHandlers({
      db: database.db,
      cipher,
      destinations,
      maxEndpointsPerUser: config.WEBHOOK_MAX_ENDPOINTS_PER_USER,
      rotationOverlapMs: config.WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS * 1000,
      firstAttemptDelayMs: config.WEBHOOK_RETRY_SCHEDULE[0] ?? 0,
      notify: () => webhooks.notify(),
    }),
  );
  host.grpc.addService(
    loadProtos().te.integration.v1.Connectors.service,
    connectorHandlers({
      db: database.db,
      cipher,
      connectors,
      maxConnectorsPerUser: config.CONNECTOR_MAX_PER_USER,
      firstAttemptDelayMs: config.WEBHOOK_RETRY_SCHEDULE[0] ?? 0,
      notify: () => webhooks.notify(),
    }),
  );
  // The delivery log keeps finished deliveries for WEBHOOK_LOG_RETENTION (one replica purges, hourly).
  host.scheduler.every(WEBHOOK_LOG_PURGE_JOB, 3600_000, async () => {
    const before = new Date(Date.now() - config.WEBHOOK_LOG_RETENTION);
    const purged = await new WebhookDeliveryRepository(database.db).purgeFinished(before);
    host.logger.info('webhook delivery log purged', { deliveries: purged });
  });
  // The dispatcher runs while the host does, and stops after the consumers (before the database).
  host.runInBackground('webhook dispatcher (finish attempts in flight)', webhooks);

  // te.integration.v1.InboundWebhooks: signed deliveries from INBOUND_SOURCES → integration.inbound.received.
  host.grpc.addService(
    loadProtos().te.integration.v1.InboundWebhooks.service,
    inboundWebhookHandlers({
      sources: new Map(config.inboundSources.map((source) => [source.id, source])),
      maxBodyBytes: config.INBOUND_MAX_BODY_BYTES,
      replays: new ReplayGuard(host.redis),
      outbox: new InboundEventOutbox(database.db, () => host.relay.notify()),
      producer: config.SERVICE_NAME,
      logger: host.logger,
    }),
  );
  // The per-user event log (Redis Streams) and te.integration.v1.EventStream (GET /api/v1/events):
  // its own queue, so webhook deliveries get their own copy of each event (decision 0021-event-stream).
  const eventLog = new EventLog(host.redis, {
    retentionMs: config.EVENT_LOG_RETENTION_SECONDS * 1000,
    maxPerUser: config.EVENT_LOG_MAX_PER_USER,
  });
  host.consume({
    queue: EVENT_LOG_QUEUE,
    bindings: EVENT_LOG_BINDINGS,
    handler: eventLogConsumer(eventLog, host.logger),
  });
  const liveTail = new LiveTail(host.redis, {
    logger: host.logger,
    connectionName: `${config.SERVICE_NAME}:event-tail`,
  });
  host.grpc.addService(
    loadProtos().te.integration.v1.EventStream.service,
    eventStreamHandlers({
      log: eventLog,
      tail: liveTail,
      logger: host.logger,
      maxOpen: config.EVENT_STREAM_MAX_OPEN,
      maxOpenPerUser: config.EVENT_STREAM_MAX_PER_USER,
    }),
  );
  host.onStop('event stream tail', () => liveTail.close());
  return host;
}
