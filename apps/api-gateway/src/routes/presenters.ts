/** Public JSON shapes (snake_case like the envelope); one place maps service messages to them. */
export interface UserMessage {
  id?: string;
  email?: string;
  name?: string;
  roles?: string[];
  createdAt?: string;
  locale?: string;
  preferencesJson?: string;
}

export interface AccessTokenMessage {
  token?: string;
  tokenType?: string;
  expiresIn?: number;
}

export function presentUser(user: UserMessage | null | undefined) {
  return {
    id: user?.id ?? '',
    email: user?.email ?? '',
    name: user?.name ?? '',
    roles: user?.roles ?? [],
    locale: user?.locale || 'en',
    preferences: parsePreferences(user?.preferencesJson),
    created_at: user?.createdAt ?? '',
  };
}

// user-service validated the object when it was stored; an empty or unreadable text is "no preferences".
function parsePreferences(json: string | undefined): Record<string, unknown> {
  try {
    const value = JSON.parse(json || '{}') as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export interface SessionMessage {
  id?: string;
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
}

/**
 * The OAuth 2.0 token response members (RFC 6749 §5.1) next to the user, and the session they belong
 * to: `refresh_token` is single-use (each refresh returns the next one) and shown only here.
 */
export function presentSession(response: {
  user?: UserMessage | null;
  accessToken?: AccessTokenMessage | null;
  session?: SessionMessage | null;
}) {
  return {
    user: presentUser(response.user),
    access_token: response.accessToken?.token ?? '',
    token_type: response.accessToken?.tokenType ?? 'Bearer',
    expires_in: response.accessToken?.expiresIn ?? 0,
    refresh_token: response.session?.refreshToken ?? '',
    refresh_token_expires_in: response.session?.refreshTokenExpiresIn ?? 0,
    session_id: response.session?.id ?? '',
  };
}

export interface SecurityEventMessage {
  id?: string;
  type?: string;
  ip?: string;
  userAgent?: string;
  detailsJson?: string;
  createdAt?: string;
}

/** One entry of the caller's security log; unknown client details are null. */
export function presentSecurityEvent(event: SecurityEventMessage) {
  let details: unknown = {};
  try {
    details = JSON.parse(event.detailsJson || '{}');
  } catch {
    details = {};
  }
  return {
    id: event.id ?? '',
    type: event.type ?? '',
    ip: event.ip || null,
    user_agent: event.userAgent || null,
    details,
    created_at: event.createdAt ?? '',
  };
}

export interface ApiKeyMessage {
  id?: string;
  name?: string;
  prefix?: string;
  scopes?: string[];
  createdAt?: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

/** An API key as its owner sees it (never the secret); `expires_at`/`last_used_at` null when never. */
export function presentApiKey(key: ApiKeyMessage | null | undefined) {
  return {
    id: key?.id ?? '',
    name: key?.name ?? '',
    prefix: key?.prefix ?? '',
    scopes: key?.scopes ?? [],
    created_at: key?.createdAt ?? '',
    expires_at: key?.expiresAt || null,
    last_used_at: key?.lastUsedAt || null,
  };
}

export interface UsageRowMessage {
  day?: string;
  model?: string;
  userId?: string;
  requests?: string | number;
  inputTokens?: string | number;
  outputTokens?: string | number;
  costUsd?: string;
}

/** One usage aggregate; counts as JSON numbers, cost as the exact decimal string ("0.001250"). */
export function presentUsage(row: UsageRowMessage) {
  return {
    requests: Number(row.requests ?? 0),
    input_tokens: Number(row.inputTokens ?? 0),
    output_tokens: Number(row.outputTokens ?? 0),
    cost_usd: row.costUsd || '0.000000',
  };
}

export interface ConversationSessionMessage {
  id?: string;
  title?: string;
  settingsJson?: string;
  createdAt?: string;
  updatedAt?: string;
  lastActivityAt?: string;
}

/** A conversation session as its owner sees it; `title` null when none was given. */
export function presentConversationSession(session: ConversationSessionMessage | null | undefined) {
  return {
    id: session?.id ?? '',
    title: session?.title || null,
    settings: parsePreferences(session?.settingsJson),
    created_at: session?.createdAt ?? '',
    updated_at: session?.updatedAt ?? '',
    last_activity_at: session?.lastActivityAt ?? '',
  };
}

export interface ConversationMessageMessage {
  id?: string;
  sessionId?: string;
  role?: string;
  content?: string;
  model?: string;
  mode?: string;
  attachmentIds?: string[];
  status?: string;
  createdAt?: string;
  replyTo?: string;
  errorCode?: string;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: string;
}

/**
 * One message of a session; `model` null when routing chooses (for a reply: the model version that
 * answered). Replies carry `reply_to`, `error_code` when failed and `usage` when completed.
 */
export function presentConversationMessage(message: ConversationMessageMessage | null | undefined) {
  return {
    id: message?.id ?? '',
    session_id: message?.sessionId ?? '',
    role: message?.role ?? '',
    content: message?.content ?? '',
    model: message?.model || null,
    mode: message?.mode ?? '',
    attachment_ids: message?.attachmentIds ?? [],
    status: message?.status ?? '',
    created_at: message?.createdAt ?? '',
    reply_to: message?.replyTo || null,
    error_code: message?.errorCode || null,
    usage:
      message?.status === 'completed'
        ? {
            input_tokens: message.inputTokens ?? 0,
            output_tokens: message.outputTokens ?? 0,
            cost_usd: message.costUsd || null,
          }
        : null,
  };
}

export interface ModelMessage {
  name?: string;
  kind?: string;
  capabilities?: {
    vision?: boolean;
    streaming?: boolean;
    contextWindow?: number;
    maxOutputTokens?: number;
  } | null;
  deprecatedAt?: string;
  retiresAt?: string;
}

/**
 * A name the caller may ask for (`kind` "alias" or "version") and what it can do; `deprecated_at` and
 * `retires_at` (RFC 3339) null when not planned.
 */
export function presentModel(model: ModelMessage) {
  return {
    name: model.name ?? '',
    kind: model.kind ?? '',
    capabilities: {
      vision: model.capabilities?.vision ?? false,
      streaming: model.capabilities?.streaming ?? false,
      context_window: model.capabilities?.contextWindow ?? 0,
      max_output_tokens: model.capabilities?.maxOutputTokens ?? 0,
    },
    deprecated_at: model.deprecatedAt || null,
    retires_at: model.retiresAt || null,
  };
}

export interface ModelVersionMessage {
  name?: string;
  model?: string;
  version?: string;
  providerId?: string;
  providerModel?: string;
  parametersJson?: string;
  capabilities?: ModelMessage['capabilities'];
  inputPricePerMillion?: string;
  outputPricePerMillion?: string;
  deprecatedAt?: string;
  retiresAt?: string;
  createdAt?: string;
  status?: string;
  providerConfigured?: boolean;
}

/**
 * A model version as administrators see it: prices per million tokens as exact decimal strings
 * ("0.150000"), `parameters` as the JSON object sent to the provider, dates RFC 3339 (null when not
 * planned), `status` "active", "deprecated" or "retired" now.
 */
export function presentModelVersion(version: ModelVersionMessage | null | undefined) {
  return {
    name: version?.name ?? '',
    model: version?.model ?? '',
    version: version?.version ?? '',
    provider_id: version?.providerId ?? '',
    provider_model: version?.providerModel ?? '',
    parameters: parsePreferences(version?.parametersJson),
    capabilities: presentModel({ capabilities: version?.capabilities }).capabilities,
    input_price_per_million: version?.inputPricePerMillion ?? '',
    output_price_per_million: version?.outputPricePerMillion ?? '',
    deprecated_at: version?.deprecatedAt || null,
    retires_at: version?.retiresAt || null,
    created_at: version?.createdAt ?? '',
    status: version?.status ?? '',
    provider_configured: version?.providerConfigured ?? false,
  };
}

export interface ModelAliasMessage {
  name?: string;
  targets?: { version?: string; weight?: number }[];
  createdAt?: string;
  updatedAt?: string;
}

/** An alias and the versions it sends traffic to, largest weight first (weights 0–10000, 0 = drained). */
export function presentModelAlias(alias: ModelAliasMessage | null | undefined) {
  return {
    name: alias?.name ?? '',
    targets: (alias?.targets ?? []).map((target) => ({
      version: target.version ?? '',
      weight: target.weight ?? 0,
    })),
    created_at: alias?.createdAt ?? '',
    updated_at: alias?.updatedAt ?? '',
  };
}

export interface WebhookEndpointMessage {
  id?: string;
  url?: string;
  description?: string;
  eventTypes?: string[];
  enabled?: boolean;
  disabledReason?: string;
  disabledAt?: string;
  previousSecretExpiresAt?: string;
  createdAt?: string;
  updatedAt?: string;
}

/** An outbound webhook endpoint; never its secret (shown once, by the route that made it). */
export function presentWebhookEndpoint(endpoint: WebhookEndpointMessage | null | undefined) {
  return {
    id: endpoint?.id ?? '',
    url: endpoint?.url ?? '',
    description: endpoint?.description ?? '',
    event_types: endpoint?.eventTypes ?? [],
    enabled: endpoint?.enabled ?? false,
    disabled_reason: endpoint?.disabledReason || null,
    disabled_at: endpoint?.disabledAt || null,
    previous_secret_expires_at: endpoint?.previousSecretExpiresAt || null,
    created_at: endpoint?.createdAt ?? '',
    updated_at: endpoint?.updatedAt ?? '',
  };
}

export interface WebhookDeliveryMessage {
  id?: string;
  endpointId?: string;
  messageId?: string;
  eventId?: string;
  eventType?: string;
  payloadJson?: string;
  status?: string;
  nextAttemptAt?: string;
  createdAt?: string;
  attempts?: {
    id?: string;
    sequence?: number;
    attempt?: number;
    attemptedAt?: string;
    responseStatus?: number;
    latencyMs?: number;
    responseExcerpt?: string;
    errorClass?: string;
    errorMessage?: string;
    succeeded?: boolean;
  }[];
}

/** One message to one endpoint with its attempts (newest first); `payload` is the body sent. */
export function presentWebhookDelivery(delivery: WebhookDeliveryMessage | null | undefined) {
  return {
    id: delivery?.id ?? '',
    endpoint_id: delivery?.endpointId ?? '',
    message_id: delivery?.messageId ?? '',
    event_id: delivery?.eventId || null,
    event_type: delivery?.eventType ?? '',
    payload: parseJson(delivery?.payloadJson),
    status: delivery?.status ?? '',
    next_attempt_at: delivery?.nextAttemptAt || null,
    created_at: delivery?.createdAt ?? '',
    attempts: (delivery?.attempts ?? []).map((attempt) => ({
      id: attempt.id ?? '',
      sequence: attempt.sequence ?? 0,
      attempt: attempt.attempt ?? 0,
      attempted_at: attempt.attemptedAt ?? '',
      succeeded: attempt.succeeded ?? false,
      response_status: attempt.responseStatus || null,
      latency_ms: attempt.latencyMs ?? 0,
      response_excerpt: attempt.responseExcerpt ?? '',
      error_class: attempt.errorClass || null,
      error_message: attempt.errorMessage || null,
    })),
  };
}

export interface ConnectorMessage {
  id?: string;
  kind?: string;
  name?: string;
  eventTypes?: string[];
  enabled?: boolean;
  settings?: { url?: string; authHeader?: string } | null;
  hasCredential?: boolean;
  credentialHint?: string;
  disabledReason?: string;
  disabledAt?: string;
  createdAt?: string;
  updatedAt?: string;
}

/** A connector: its settings and a hint of its credential (last 4 characters), never the credential. */
export function presentConnector(connector: ConnectorMessage | null | undefined) {
  const http = connector?.kind === 'http';
  return {
    id: connector?.id ?? '',
    kind: connector?.kind ?? '',
    name: connector?.name ?? '',
    event_types: connector?.eventTypes ?? [],
    enabled: connector?.enabled ?? false,
    settings: http
      ? { url: connector?.settings?.url ?? '', auth_header: connector?.settings?.authHeader || null }
      : {},
    has_credential: connector?.hasCredential ?? false,
    credential_hint: connector?.credentialHint || null,
    disabled_reason: connector?.disabledReason || null,
    disabled_at: connector?.disabledAt || null,
    created_at: connector?.createdAt ?? '',
    updated_at: connector?.updatedAt ?? '',
  };
}

/** One event to one connector with its attempts (the webhook delivery log's shape). */
export function presentConnectorDelivery(
  delivery: (Omit<WebhookDeliveryMessage, 'endpointId'> & { connectorId?: string }) | null | undefined,
) {
  const { endpoint_id: _endpointId, ...presented } = presentWebhookDelivery(delivery);
  return { ...presented, connector_id: delivery?.connectorId ?? '' };
}

function parseJson(json: string | undefined): unknown {
  try {
    return JSON.parse(json || 'null') as unknown;
  } catch {
    return null;
  }
}
