import { ConfigError, loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import type { z } from 'zod';
import { connectorConfigFragment, connectorConfigProblems } from './connectors/connector.config.js';
import { webhookConfigFragment, webhookConfigProblems } from './delivery/webhook.config.js';
import { eventStreamConfigFragment } from './event-stream/event-stream.config.js';
import {
  inboundSourcesConfigFragment,
  loadInboundSources,
  type InboundSourceSettings,
} from './inbound/inbound-source.config.js';

/** Every variable integration-service reads (the common service ones plus its own). Start-up lists each bad one. */
export const integrationServiceConfigSchema = serviceConfigSchema({
  name: 'integration-service',
  grpcPort: 50054,
  httpPort: 8084,
  database: 'te_integration',
}).extend({
  // Inbound webhooks: INBOUND_SOURCES=github-main,stripe and, for each, INBOUND_SOURCE_<ID>_*
  // (src/inbound/inbound-source.config.ts).
  ...inboundSourcesConfigFragment,
  // Outbound webhooks: WEBHOOK_* (src/delivery/webhook.config.ts, decision 0022).
  ...webhookConfigFragment,
  // Connectors (Slack, generic HTTP) delivered by the same machinery: CONNECTOR_* (decision 0024).
  ...connectorConfigFragment,
  // The per-user event log and GET /api/v1/events: EVENT_LOG_*, EVENT_STREAM_*
  // (src/event-stream/event-stream.config.ts, decision 0021-event-stream).
  ...eventStreamConfigFragment,
});

export type IntegrationServiceConfig = z.infer<typeof integrationServiceConfigSchema> & {
  /** INBOUND_SOURCES with each source's INBOUND_SOURCE_<ID>_* variables (secrets included: never log). */
  inboundSources: InboundSourceSettings[];
};

export function loadIntegrationServiceConfig(
  environment: NodeJS.ProcessEnv = process.env,
): IntegrationServiceConfig {
  // Per-source variables have dynamic names, so they are read beside the schema; one ConfigError
  // still lists every bad variable of both.
  const problems: ConfigError['problems'] = [];
  const read = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const config = read(() => loadConfig(integrationServiceConfigSchema, environment));
  const inboundSources = read(() => loadInboundSources(environment));
  if (config) problems.push(...webhookConfigProblems(config), ...connectorConfigProblems(config));
  if (!config || !inboundSources || problems.length > 0) {
    // INBOUND_SOURCES is read by both; list each problem once.
    const unique = new Map(problems.map((problem) => [`${problem.variable}\0${problem.message}`, problem]));
    throw new ConfigError([...unique.values()]);
  }
  return { ...config, inboundSources };
}
