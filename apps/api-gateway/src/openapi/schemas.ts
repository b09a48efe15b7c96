import { z } from 'zod';

/**
 * Response shapes for the document: what the presenters (routes/presenters.ts) return, as zod
 * schemas named in `components.schemas`. Presenters are plain functions; schemas.spec.ts parses
 * their output with these schemas, so the two cannot drift apart unnoticed.
 */
export const responseSchemas = z.registry<{ id: string; description?: string }>();

function named<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  responseSchemas.add(schema, { id, ...(description && { description }) });
  return schema;
}

const timestamp = z.string().describe('RFC 3339');
const nullableTimestamp = timestamp.nullable();
const jsonObject = z.record(z.string(), z.unknown());

export const userSchema = named(
  'User',
  z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    locale: z.string(),
    preferences: jsonObject,
    created_at: timestamp,
  }),
);

export const signedInSchema = named(
  'SignedIn',
  z.object({
    user: userSchema,
    access_token: z.string().describe('An ES256 JWT; send it as `Authorization: Bearer …`'),
    token_type: z.string(),
    expires_in: z.number().int(),
    refresh_token: z.string().describe('Single use: each refresh returns the next one'),
    refresh_token_expires_in: z.number().int(),
    session_id: z.string(),
  }),
  'The OAuth 2.0 token response members (RFC 6749 §5.1), the user and the sign-in session',
);

export const revokedSessionsSchema = named(
  'RevokedSessions',
  z.object({ revoked_session_ids: z.array(z.string()) }),
);

export const securityEventSchema = named(
  'SecurityEvent',
  z.object({
    id: z.string(),
    type: z.string(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.unknown(),
    created_at: timestamp,
  }),
);

export const usageSchema = z.object({
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.string().describe('An exact decimal, e.g. "0.001250"'),
});

export const apiKeySchema = named(
  'ApiKey',
  z.object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    created_at: timestamp,
    expires_at: nullableTimestamp,
    last_used_at: nullableTimestamp,
  }),
);

export const conversationSessionSchema = named(
  'ConversationSession',
  z.object({
    id: z.string(),
    title: z.string().nullable(),
    settings: jsonObject,
    created_at: timestamp,
    updated_at: timestamp,
    last_activity_at: timestamp,
  }),
);

export const conversationMessageSchema = named(
  'ConversationMessage',
  z.object({
    id: z.string(),
    session_id: z.string(),
    role: z.string(),
    content: z.string(),
    model: z.string().nullable(),
    mode: z.string(),
    attachment_ids: z.array(z.string()),
    status: z.string(),
    created_at: timestamp,
    reply_to: z.string().nullable(),
    error_code: z.string().nullable(),
    usage: z
      .object({
        input_tokens: z.number().int(),
        output_tokens: z.number().int(),
        cost_usd: z.string().nullable(),
      })
      .nullable(),
  }),
);

export const attachmentSchema = named(
  'Attachment',
  z.object({
    id: z.string(),
    session_id: z.string(),
    content_type: z.string(),
    size: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    status: z.string(),
    ocr_text: z.string().nullable(),
    ocr_confidence: z.number().nullable(),
    created_at: timestamp,
    processed_at: nullableTimestamp,
  }),
);

const capabilitiesSchema = z.object({
  vision: z.boolean(),
  streaming: z.boolean(),
  context_window: z.number().int(),
  max_output_tokens: z.number().int(),
});

export const modelSchema = named(
  'Model',
  z.object({
    name: z.string(),
    kind: z.string().describe('"alias" or "version"'),
    capabilities: capabilitiesSchema,
    deprecated_at: nullableTimestamp,
    retires_at: nullableTimestamp,
  }),
);

export const modelVersionSchema = named(
  'ModelVersion',
  z.object({
    name: z.string(),
    model: z.string(),
    version: z.string(),
    provider_id: z.string(),
    provider_model: z.string(),
    parameters: jsonObject,
    capabilities: capabilitiesSchema,
    input_price_per_million: z.string(),
    output_price_per_million: z.string(),
    deprecated_at: nullableTimestamp,
    retires_at: nullableTimestamp,
    created_at: timestamp,
    status: z.string(),
    provider_configured: z.boolean(),
  }),
);

export const modelAliasSchema = named(
  'ModelAlias',
  z.object({
    name: z.string(),
    targets: z.array(z.object({ version: z.string(), weight: z.number().int() })),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const webhookEndpointSchema = named(
  'WebhookEndpoint',
  z.object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    disabled_at: nullableTimestamp,
    previous_secret_expires_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const webhookDeliverySchema = named(
  'WebhookDelivery',
  z.object({
    id: z.string(),
    endpoint_id: z.string(),
    message_id: z.string(),
    event_id: z.string().nullable(),
    event_type: z.string(),
    payload: z.unknown(),
    status: z.string().describe('pending, succeeded or failed'),
    next_attempt_at: nullableTimestamp,
    created_at: timestamp,
    attempts: z.array(
      z.object({
        id: z.string(),
        sequence: z.number().int(),
        attempt: z.number().int(),
        attempted_at: timestamp,
        succeeded: z.boolean(),
        response_status: z.number().int().nullable(),
        latency_ms: z.number().int(),
        response_excerpt: z.string(),
        error_class: z.string().nullable(),
        error_message: z.string().nullable(),
      }),
    ),
  }),
);

export const connectorSchema = named(
  'Connector',
  z.object({
    id: z.string(),
    kind: z.string().describe('`slack` (incoming webhook) or `http`'),
    name: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    settings: z
      .object({ url: z.string(), auth_header: z.string().nullable() })
      .partial()
      .describe('`http`: the URL and the header the credential goes in; `slack`: empty'),
    has_credential: z.boolean(),
    credential_hint: z
      .string()
      .nullable()
      .describe('The last 4 characters; the credential itself is write-only'),
    disabled_reason: z.string().nullable(),
    disabled_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const connectorDeliverySchema = named(
  'ConnectorDelivery',
  webhookDeliverySchema.omit({ endpoint_id: true }).extend({ connector_id: z.string() }),
);

export const nextPageToken = z
  .string()
  .nullable()
  .describe('Pass as `page_token` for the next page; null at the end');

/** A path parameter that is a UUID (the routes check it: 400 otherwise). */
export const uuidPath = z.string().regex(/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/);

/** A body of Server-Sent Events (WHATWG); each event is described in the operation's text. */
export const eventStream = { type: 'string', description: 'text/event-stream (Server-Sent Events)' };
