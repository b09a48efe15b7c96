/** The document's tags (groups in the reference page), in the order the page shows them. */
export const TAGS = {
  auth: {
    name: 'Authentication',
    description: 'Register, sign in (password or OpenID Connect), refresh, sign out.',
  },
  account: {
    name: 'Account',
    description: "The caller's own account: profile, password, security log, usage.",
  },
  apiKeys: { name: 'API keys', description: 'Personal API keys (`tek_…`); the secret is shown once.' },
  conversations: {
    name: 'Conversations',
    description:
      'Sessions and their messages (context-service); `mode: "stream"` answers with Server-Sent Events.',
  },
  attachments: {
    name: 'Attachments',
    description: 'Screenshots in a session, read by OCR in the background.',
  },
  models: { name: 'Models', description: 'The aliases and model versions the caller may name.' },
  events: { name: 'Events', description: "The caller's own platform events as Server-Sent Events." },
  webhooks: {
    name: 'Webhooks',
    description: 'Outbound webhook endpoints (Standard Webhooks) and their delivery logs.',
  },
  connectors: {
    name: 'Connectors',
    description:
      'Slack incoming webhooks and HTTP APIs that receive chosen events; credentials are write-only.',
  },
  inboundWebhooks: {
    name: 'Inbound webhooks',
    description:
      "Deliveries from configured third parties; the sender's signature over the raw body is the credential.",
  },
  admin: {
    name: 'Administration',
    description: 'Operator views and the model registry (admin-only scopes).',
  },
  openai: {
    name: 'OpenAI-compatible',
    description:
      "OpenAI's chat completions and models API under `/v1` (decision 0017): OpenAI's SDKs work unchanged. " +
      "Errors here are OpenAI's `{ error: { message, type, param, code } }`, not the envelope.",
  },
  discovery: { name: 'Discovery', description: 'Keys that verify access tokens, and this document.' },
} as const;

export type Tag = keyof typeof TAGS;
