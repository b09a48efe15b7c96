import type { DestinationPolicy } from '../outbound/index.js';
import type { Connector, ConnectorKind } from './connector.js';
import { HttpConnector } from './http.connector.js';
import { SlackConnector } from './slack.connector.js';

export type ConnectorRegistry = ReadonlyMap<ConnectorKind, Connector>;

export interface ConnectorRegistryOptions {
  /** WEBHOOK_ALLOWED_DESTINATIONS (http:// only for these; development and tests). */
  destinations: DestinationPolicy;
  /** CONNECTOR_SLACK_WEBHOOK_PREFIXES: where a Slack incoming-webhook URL may point. */
  slackWebhookPrefixes: readonly string[];
}

export function createConnectorRegistry(options: ConnectorRegistryOptions): ConnectorRegistry {
  const connectors: Connector[] = [
    new SlackConnector(options.slackWebhookPrefixes),
    new HttpConnector(options.destinations),
  ];
  return new Map(connectors.map((connector) => [connector.kind, connector]));
}
