import { env, type ConfigError } from '@te/platform';
import { z } from 'zod';
import { SLACK_WEBHOOK_PREFIX } from './slack.connector.js';

/** Connectors (decision 0024). Their credentials use WEBHOOK_SECRET_ENCRYPTION_KEY (+ _DECRYPTION_KEYS). */
export const connectorConfigFragment = {
  CONNECTOR_MAX_PER_USER: z.coerce.number().int().min(1).max(1000).default(20),
  CONNECTOR_SLACK_WEBHOOK_PREFIXES: env
    .list()
    .transform((prefixes) => (prefixes.length > 0 ? prefixes : [SLACK_WEBHOOK_PREFIX]))
    .describe(
      'where a Slack incoming-webhook URL may point (https://hooks.slack.com/services/; tests add a loopback prefix)',
    ),
};

/** In production a Slack connector posts to Slack only. */
export function connectorConfigProblems(config: {
  NODE_ENV: string;
  CONNECTOR_SLACK_WEBHOOK_PREFIXES: string[];
}): ConfigError['problems'] {
  if (config.NODE_ENV !== 'production') return [];
  const foreign = config.CONNECTOR_SLACK_WEBHOOK_PREFIXES.filter((prefix) => prefix !== SLACK_WEBHOOK_PREFIX);
  return foreign.length === 0
    ? []
    : [
        {
          variable: 'CONNECTOR_SLACK_WEBHOOK_PREFIXES',
          message: `must be ${SLACK_WEBHOOK_PREFIX} (or unset) in production`,
        },
      ];
}
