import type { FieldError } from '@te/platform';
import type { OutboundResponse } from '../outbound/index.js';
import {
  MAX_CREDENTIAL_LENGTH,
  type Connector,
  type ConnectorMessage,
  type ConnectorRequest,
  type ConnectorSettings,
  type ConnectorVerdict,
} from './connector.js';
import { slackMessage } from './slack-message.js';

/** Slack's own incoming webhooks; tests and development add a loopback prefix (configuration). */
export const SLACK_WEBHOOK_PREFIX = 'https://hooks.slack.com/services/';

/** The path after the prefix: `T…/B…/<token>` (workspace, hook, secret token). */
const HOOK_PATH = /^[A-Za-z0-9]{1,40}\/[A-Za-z0-9]{1,40}\/[A-Za-z0-9]{8,100}$/;
/** Slack's error answers are short snake_case codes (`invalid_token`, `channel_is_archived`, …). */
const SLACK_ERROR = /^[a-z_]{3,64}$/;

/**
 * A Slack incoming webhook (https://api.slack.com/messaging/webhooks). The webhook URL is the
 * credential (whoever has it can post to the channel), so it is stored encrypted and never shown.
 * Messages are made from the event's ids and counts only, never user-written content (docs/events.md).
 *
 * Answers (https://api.slack.com/messaging/webhooks#handling_errors): 200 `ok`; 400 `invalid_payload`
 * and friends — this message will never be accepted, not retried; 403 (`invalid_token`,
 * `action_prohibited`), 404 (`no_service`, `no_team`, `channel_not_found`) and 410
 * (`channel_is_archived`) — the hook no longer works, the connector is disabled; 429 — retried after
 * `Retry-After`; 5xx and network failures — retried.
 */
export class SlackConnector implements Connector {
  readonly kind = 'slack' as const;
  readonly credentialRequired = true;

  constructor(private readonly prefixes: readonly string[]) {}

  checkSettings(settings: ConnectorSettings, problems: FieldError[]): ConnectorSettings {
    for (const field of Object.keys(settings) as (keyof ConnectorSettings)[]) {
      if (settings[field]) problems.push({ field: `settings.${field}`, message: 'is not a Slack setting' });
    }
    return {};
  }

  checkCredential(credential: string, problems: FieldError[]): string {
    const url = credential.trim();
    const prefix = this.prefixes.find((candidate) => url.startsWith(candidate));
    if (url.length > MAX_CREDENTIAL_LENGTH || !prefix || !HOOK_PATH.test(url.slice(prefix.length))) {
      problems.push({
        field: 'credential',
        message: `must be a Slack incoming-webhook URL (${this.prefixes[0] ?? SLACK_WEBHOOK_PREFIX}T…/B…/…)`,
      });
    }
    return url;
  }

  buildRequest(
    message: ConnectorMessage,
    _settings: ConnectorSettings,
    credential: string | undefined,
  ): ConnectorRequest {
    if (!credential) throw new Error('a Slack connector has no webhook URL');
    const event = JSON.parse(message.payload) as { type: string; timestamp: string; data: unknown };
    return {
      url: credential,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackMessage(event)),
    };
  }

  classify(response: OutboundResponse): ConnectorVerdict {
    const { status } = response;
    if (status >= 200 && status < 300) return { result: 'success' };
    if (status === 429 || status >= 500 || status === 408) {
      return {
        result: 'retry',
        ...(response.retryAfterMs !== undefined && { afterMs: response.retryAfterMs }),
      };
    }
    if (status === 403 || status === 404 || status === 410) {
      const code = response.excerpt.trim();
      return { result: 'disable', reason: SLACK_ERROR.test(code) ? code : `http_${status}` };
    }
    return { result: 'fail' };
  }
}
