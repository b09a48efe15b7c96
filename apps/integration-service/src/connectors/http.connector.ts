import type { FieldError } from '@te/platform';
import { checkEndpointUrl } from '../domain/webhook-endpoint.policy.js';
import type { DestinationPolicy, OutboundResponse } from '../outbound/index.js';
import {
  MAX_CREDENTIAL_LENGTH,
  type Connector,
  type ConnectorMessage,
  type ConnectorRequest,
  type ConnectorSettings,
  type ConnectorVerdict,
} from './connector.js';

export const DEFAULT_AUTH_HEADER = 'authorization';

/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Headers the sender owns: a credential may not replace them. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'keep-alive',
  'proxy-authorization',
  'user-agent',
  'idempotency-key',
]);
/** Visible ASCII and spaces: what an HTTP header value may safely hold (no CR/LF). */
const HEADER_VALUE = /^[\x20-\x7E]+$/;

/**
 * Any HTTP API: POSTs the platform event exactly as webhooks receive it (`{type, timestamp, data}`)
 * to `settings.url` (https; the sender applies the SSRF rules at connect time), with the credential
 * — if any — as the value of `settings.auth_header` (default `Authorization`, e.g. `Bearer …`), and
 * `Idempotency-Key: msg_…` (the same on every retry: deliveries are at least once). 2xx succeeds,
 * 410 disables the connector, anything else is retried (Retry-After honoured), as for webhooks.
 */
export class HttpConnector implements Connector {
  readonly kind = 'http' as const;
  readonly credentialRequired = false;

  constructor(private readonly destinations: DestinationPolicy) {}

  checkSettings(settings: ConnectorSettings, problems: FieldError[]): ConnectorSettings {
    const urlProblems: FieldError[] = [];
    const url = checkEndpointUrl(settings.url ?? '', this.destinations, urlProblems);
    problems.push(...urlProblems.map((problem) => ({ ...problem, field: 'settings.url' })));
    const header = (settings.auth_header ?? '').trim().toLowerCase() || DEFAULT_AUTH_HEADER;
    if (!HEADER_NAME.test(header) || RESERVED_HEADERS.has(header) || header.startsWith('webhook-')) {
      problems.push({
        field: 'settings.auth_header',
        message: 'must be a header name (a token) the platform does not set itself',
      });
    }
    return { url, auth_header: header };
  }

  checkCredential(credential: string, problems: FieldError[]): string {
    const value = credential.trim();
    if (value.length > MAX_CREDENTIAL_LENGTH || !HEADER_VALUE.test(value)) {
      problems.push({
        field: 'credential',
        message: `must be a header value of at most ${MAX_CREDENTIAL_LENGTH} printable ASCII characters`,
      });
    }
    return value;
  }

  buildRequest(
    message: ConnectorMessage,
    settings: ConnectorSettings,
    credential: string | undefined,
  ): ConnectorRequest {
    if (!settings.url) throw new Error('an http connector has no url');
    return {
      url: settings.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.messageId,
        ...(credential && { [settings.auth_header || DEFAULT_AUTH_HEADER]: credential }),
      },
      body: message.payload,
    };
  }

  classify(response: OutboundResponse): ConnectorVerdict {
    if (response.status >= 200 && response.status < 300) return { result: 'success' };
    if (response.status === 410) return { result: 'disable', reason: 'gone' };
    return {
      result: 'retry',
      ...(response.retryAfterMs !== undefined && { afterMs: response.retryAfterMs }),
    };
  }
}
