import type { FieldError } from '@te/platform';
import type { OutboundResponse } from '../outbound/index.js';

/** The kinds of third-party API a user can connect (decision 0024). */
export const CONNECTOR_KINDS = ['slack', 'http'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

export function isConnectorKind(kind: string): kind is ConnectorKind {
  return (CONNECTOR_KINDS as readonly string[]).includes(kind);
}

/** Non-secret settings, stored as they are (JSON) and shown to the owner. */
export interface ConnectorSettings {
  /** http: where events are POSTed. */
  url?: string;
  /** http: the header that carries the credential (default Authorization). */
  auth_header?: string;
}

/** What one attempt sends; built at attempt time, because the credential may be part of it. */
export interface ConnectorRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** A third party's answer, in the delivery schedule's terms. */
export type ConnectorVerdict =
  | { result: 'success' }
  /** Try again per WEBHOOK_RETRY_SCHEDULE, never before `afterMs` (Retry-After). */
  | { result: 'retry'; afterMs?: number }
  /** This message will never be accepted (e.g. Slack's invalid_payload): fail it, keep the connector. */
  | { result: 'fail' }
  /** The connector no longer works (revoked token, archived channel, 410): disable it. */
  | { result: 'disable'; reason: string };

/** The message a delivery carries: the platform event as delivered to webhooks. */
export interface ConnectorMessage {
  messageId: string;
  /** `{ type, timestamp, data }`, the exact text stored with the delivery. */
  payload: string;
}

/**
 * One kind of third-party API. The delivery machinery (fan-out, dispatcher, retries, log) is the
 * webhooks' own; a connector only says what is valid, what to send and what an answer means.
 */
export interface Connector {
  readonly kind: ConnectorKind;
  /** Whether a credential must be given at creation (Slack: the webhook URL is the credential). */
  readonly credentialRequired: boolean;
  /** Normalised settings; problems are pushed, naming `settings.<field>`. */
  checkSettings(settings: ConnectorSettings, problems: FieldError[]): ConnectorSettings;
  /** Normalised credential; problems name `credential` and never quote it. */
  checkCredential(credential: string, problems: FieldError[]): string;
  buildRequest(
    message: ConnectorMessage,
    settings: ConnectorSettings,
    credential: string | undefined,
  ): ConnectorRequest;
  classify(response: OutboundResponse): ConnectorVerdict;
}

export const MAX_CREDENTIAL_LENGTH = 4096;

/** What the owner is shown instead of a credential: its last 4 characters. */
export function credentialHint(credential: string): string {
  return credential.length <= 8 ? '…' : `…${credential.slice(-4)}`;
}

/**
 * The row id a credential is sealed with (authenticated as additional data by the cipher): prefixed,
 * so a connector's ciphertext never opens as a webhook secret or the other way round.
 */
export const credentialRowId = (connectorId: string) => `connector:${connectorId}`;
