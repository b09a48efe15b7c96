import { Router, type Request } from 'express';
import { z } from 'zod';
import { SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { IntegrationServiceClient } from '../clients/integration-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody, unicodeText, noBody } from '../http/validate.js';
import { validateQuery, validatedQuery } from '../http/validate-query.js';
import { presentWebhookDelivery, presentWebhookEndpoint } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { nextPageToken, uuidPath, webhookDeliverySchema, webhookEndpointSchema } from '../openapi/schemas.js';

// Types and sizes only; integration-service applies the rules (https URL to a public destination, known
// event types or "*", description ≤ 500 characters, the per-user cap) and names every bad field.
// `.strict()`: a body cannot set what the server owns (id, secret, disabled_reason, created_at, …).
const text = unicodeText;

const endpointFields = {
  url: text(4096),
  event_types: z.array(z.string().max(200)).max(50),
  description: text(2000),
  enabled: z.boolean(),
};
const createBody = z
  .object({
    ...endpointFields,
    description: endpointFields.description.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const updateBody = z.object(endpointFields).partial().strict();

const pageQuery = z
  .object({
    page_size: z.coerce.number().int().min(1).max(100).optional(),
    page_token: z.string().max(512).optional(),
  })
  .strict();

/**
 * /api/v1/webhooks: the caller's outbound webhook endpoints (integration-service, decision 0022).
 * Reads need `webhooks:read`, changes `webhooks:write`. The signing secret is in the answers of POST /
 * and POST /:id/rotate-secret only (never stored in plaintext, never shown again). Another user's
 * endpoint or delivery is a 404, like a missing one. DELETE answers 204 (no content, no envelope);
 * a test event and a replay answer 202 with the pending delivery (its outcome is in the log).
 */
export function webhookRoutes(integrations: IntegrationServiceClient, requireAuth: RequireAuth): Router {
  const router = Router();
  const read = requireAuth(SCOPES.webhooksRead);
  const write = requireAuth(SCOPES.webhooksWrite);
  const webhooks = integrations.webhooks;

  router.post(
    '/',
    operation({
      tag: 'webhooks',
      summary: 'Add a webhook endpoint',
      description:
        'An https URL to a public destination, event types (or `*`). The `whsec_` signing secret is in this answer only.',
      body: createBody,
      responses: {
        201: {
          description: 'The endpoint and its secret',
          data: z.object({
            webhook: webhookEndpointSchema,
            secret: z.string().describe('`whsec_…`, shown once'),
          }),
        },
      },
      errors: ['CONFLICT'],
    }),
    write,
    validateBody(createBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof createBody>;
      const created = await webhooks.create({
        url: input.url,
        eventTypes: input.event_types,
        description: input.description ?? '',
        ...(input.enabled !== undefined && { enabled: input.enabled }),
      });
      // A response carrying a credential must never be stored by any cache.
      res.setHeader('Cache-Control', 'no-store');
      sendData(res, 201, { webhook: presentWebhookEndpoint(created.endpoint), secret: created.secret });
    },
  );

  router.get(
    '/',
    operation({
      tag: 'webhooks',
      summary: 'List your webhook endpoints',
      responses: {
        200: { description: 'Never a secret', data: z.object({ webhooks: z.array(webhookEndpointSchema) }) },
      },
    }),
    read,
    async (_req, res) => {
      const { endpoints } = await webhooks.list();
      sendData(res, 200, { webhooks: (endpoints ?? []).map(presentWebhookEndpoint) });
    },
  );

  router.get(
    '/:id',
    operation({
      tag: 'webhooks',
      summary: 'Read a webhook endpoint',
      params: { id: uuidPath },
      responses: { 200: { description: 'The endpoint', data: z.object({ webhook: webhookEndpointSchema }) } },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    read,
    async (req, res) => {
      const { endpoint } = await webhooks.get(param(req, 'id'));
      sendData(res, 200, { webhook: presentWebhookEndpoint(endpoint) });
    },
  );

  // PATCH semantics (RFC 5789): only the members present change.
  router.patch(
    '/:id',
    operation({
      tag: 'webhooks',
      summary: 'Change a webhook endpoint',
      description: 'Only the members present change; `enabled: true` re-enables one the platform disabled.',
      params: { id: uuidPath },
      body: updateBody,
      responses: { 200: { description: 'The endpoint', data: z.object({ webhook: webhookEndpointSchema }) } },
      errors: ['NOT_FOUND'],
    }),
    write,
    validateBody(updateBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof updateBody>;
      const { endpoint } = await webhooks.update({
        id: param(req, 'id'),
        ...(input.url !== undefined && { url: input.url }),
        ...(input.event_types !== undefined && { eventTypes: input.event_types, setEventTypes: true }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.enabled !== undefined && { enabled: input.enabled }),
      });
      sendData(res, 200, { webhook: presentWebhookEndpoint(endpoint) });
    },
  );

  router.delete(
    '/:id',
    operation({
      tag: 'webhooks',
      summary: 'Delete a webhook endpoint with its deliveries',
      params: { id: uuidPath },
      responses: { 204: { description: 'Deleted' } },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    write,
    async (req, res) => {
      await webhooks.delete(param(req, 'id'));
      res.status(204).end();
    },
  );

  router.post(
    '/:id/rotate-secret',
    operation({
      tag: 'webhooks',
      summary: 'Rotate the signing secret',
      description:
        'The new secret is in this answer only; the old one signs beside it for 24 h. Takes no body (or `{}`).',
      params: { id: uuidPath },
      responses: {
        200: {
          description: 'The endpoint and its new secret',
          data: z.object({
            webhook: webhookEndpointSchema,
            secret: z.string().describe('`whsec_…`, shown once'),
          }),
        },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    write,
    noBody(),
    async (req, res) => {
      const rotated = await webhooks.rotateSecret(param(req, 'id'));
      res.setHeader('Cache-Control', 'no-store');
      sendData(res, 200, { webhook: presentWebhookEndpoint(rotated.endpoint), secret: rotated.secret });
    },
  );

  router.post(
    '/:id/test',
    operation({
      tag: 'webhooks',
      summary: 'Send a test event to this endpoint',
      description: 'A `webhook.test` event; its outcome is in the delivery log. Takes no body (or `{}`).',
      params: { id: uuidPath },
      responses: {
        202: { description: 'The pending delivery', data: z.object({ delivery: webhookDeliverySchema }) },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND', 'PRECONDITION_FAILED'],
    }),
    write,
    noBody(),
    async (req, res) => {
      const { delivery } = await webhooks.sendTest(param(req, 'id'));
      sendData(res, 202, { delivery: presentWebhookDelivery(delivery) });
    },
  );

  router.get(
    '/:id/deliveries',
    operation({
      tag: 'webhooks',
      summary: 'The delivery log of an endpoint, newest first',
      params: { id: uuidPath },
      query: pageQuery,
      responses: {
        200: {
          description: 'One page of deliveries, each with its attempts',
          data: z.object({ deliveries: z.array(webhookDeliverySchema), next_page_token: nextPageToken }),
        },
      },
      errors: ['NOT_FOUND'],
    }),
    read,
    validateQuery(pageQuery),
    async (req, res) => {
      const query = validatedQuery(res, pageQuery);
      const page = await webhooks.deliveries({
        endpointId: param(req, 'id'),
        pageSize: query.page_size ?? 0,
        pageToken: query.page_token ?? '',
      });
      sendData(res, 200, {
        deliveries: (page.deliveries ?? []).map(presentWebhookDelivery),
        next_page_token: page.nextPageToken || null,
      });
    },
  );

  router.get(
    '/:id/deliveries/:deliveryId',
    operation({
      tag: 'webhooks',
      summary: 'Read a delivery and its attempts',
      params: { id: uuidPath, deliveryId: uuidPath },
      responses: {
        200: { description: 'The delivery', data: z.object({ delivery: webhookDeliverySchema }) },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
    }),
    read,
    async (req, res) => {
      const { delivery } = await webhooks.delivery(param(req, 'id'), param(req, 'deliveryId'));
      sendData(res, 200, { delivery: presentWebhookDelivery(delivery) });
    },
  );

  router.post(
    '/:id/deliveries/:deliveryId/replay',
    operation({
      tag: 'webhooks',
      summary: 'Deliver a message again',
      description: 'The same message (same `webhook-id`) in a new attempt sequence. Takes no body (or `{}`).',
      params: { id: uuidPath, deliveryId: uuidPath },
      responses: {
        202: { description: 'The pending delivery', data: z.object({ delivery: webhookDeliverySchema }) },
      },
      errors: ['VALIDATION_FAILED', 'NOT_FOUND', 'PRECONDITION_FAILED'],
    }),
    write,
    noBody(),
    async (req, res) => {
      const { delivery } = await webhooks.replay(param(req, 'id'), param(req, 'deliveryId'));
      sendData(res, 202, { delivery: presentWebhookDelivery(delivery) });
    },
  );

  return router;
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}
