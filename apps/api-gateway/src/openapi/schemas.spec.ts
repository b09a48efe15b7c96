import type { z } from 'zod';
import { presentAttachment } from '../routes/attachments.routes.js';
import {
  presentApiKey,
  presentConnector,
  presentConnectorDelivery,
  presentConversationMessage,
  presentConversationSession,
  presentModel,
  presentModelAlias,
  presentModelVersion,
  presentSecurityEvent,
  presentSession,
  presentUser,
  presentWebhookDelivery,
  presentWebhookEndpoint,
} from '../routes/presenters.js';
import {
  apiKeySchema,
  attachmentSchema,
  connectorDeliverySchema,
  connectorSchema,
  conversationMessageSchema,
  conversationSessionSchema,
  modelAliasSchema,
  modelSchema,
  modelVersionSchema,
  securityEventSchema,
  signedInSchema,
  userSchema,
  webhookDeliverySchema,
  webhookEndpointSchema,
} from './schemas.js';

// The document's response schemas describe what the presenters return: the same members, the same types,
// for an empty message (defaults and nulls) and for a full one.
const CASES: [string, z.ZodObject, unknown[]][] = [
  [
    'User',
    userSchema,
    [presentUser(undefined), presentUser({ id: 'u', roles: ['user'], preferencesJson: '{"a":1}' })],
  ],
  [
    'SignedIn',
    signedInSchema,
    [
      presentSession({}),
      presentSession({ accessToken: { token: 't', expiresIn: 900 }, session: { id: 's' } }),
    ],
  ],
  [
    'SecurityEvent',
    securityEventSchema,
    [presentSecurityEvent({}), presentSecurityEvent({ ip: '::1', detailsJson: '{}' })],
  ],
  ['ApiKey', apiKeySchema, [presentApiKey(undefined), presentApiKey({ expiresAt: '2030-01-01T00:00:00Z' })]],
  ['ConversationSession', conversationSessionSchema, [presentConversationSession({ title: 't' })]],
  [
    'ConversationMessage',
    conversationMessageSchema,
    [
      presentConversationMessage({}),
      presentConversationMessage({ status: 'completed', inputTokens: 3, costUsd: '0.1' }),
    ],
  ],
  [
    'Attachment',
    attachmentSchema,
    [presentAttachment({}), presentAttachment({ status: 'processed', size: '12' })],
  ],
  [
    'Model',
    modelSchema,
    [presentModel({}), presentModel({ capabilities: { vision: true }, retiresAt: 'x' })],
  ],
  [
    'ModelVersion',
    modelVersionSchema,
    [presentModelVersion(undefined), presentModelVersion({ parametersJson: '{}' })],
  ],
  ['ModelAlias', modelAliasSchema, [presentModelAlias({ targets: [{ version: 'm@1', weight: 1 }] })]],
  ['WebhookEndpoint', webhookEndpointSchema, [presentWebhookEndpoint(undefined)]],
  [
    'Connector',
    connectorSchema,
    [
      presentConnector(undefined),
      presentConnector({
        kind: 'http',
        settings: { url: 'https://api.example.com/hook', authHeader: 'X-Key' },
      }),
    ],
  ],
  [
    'ConnectorDelivery',
    connectorDeliverySchema,
    [presentConnectorDelivery({ connectorId: 'c', payloadJson: '{}', attempts: [{ responseStatus: 429 }] })],
  ],
  [
    'WebhookDelivery',
    webhookDeliverySchema,
    [
      presentWebhookDelivery({
        payloadJson: '{"a":1}',
        attempts: [{ responseStatus: 500, errorClass: 'http' }],
      }),
    ],
  ],
];

describe.each(CASES)('the %s response schema', (_name, schema, outputs) => {
  test('When a presenter output is checked, then it has exactly the members of the schema, of their types', () => {
    for (const output of outputs) {
      expect(Object.keys(output as object).sort()).toEqual(Object.keys(schema.shape).sort());
      expect(schema.safeParse(output).error?.issues).toBeUndefined();
    }
  });
});
