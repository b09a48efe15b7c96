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
