import { Router, type Request } from 'express';
import { z } from 'zod';
import { SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { IntegrationServiceClient } from '../clients/integration-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody, unicodeText, noBody } from '../http/validate.js';
import { validateQuery, validatedQuery } from '../http/validate-query.js';
import { operation } from '../openapi/operation.js';
import { connectorDeliverySchema, connectorSchema, nextPageToken, uuidPath } from '../openapi/schemas.js';
import { presentConnector, presentConnectorDelivery } from './presenters.js';

// Types and sizes only; integration-service applies the rules (kind, a Slack incoming-webhook URL, an
// https url to a public destination, a header name it does not set itself, known event types or "*",
// the per-user cap) and names every bad field. `.strict()`: a body cannot set what the server owns.
const text = unicodeText;

const settings = z.object({ url: text(4096).optional(), auth_header: text(200).optional() }).strict();
const createBody = z
  .object({
    kind: text(20),
    name: text(200),
    event_types: z.array(z.string().max(200)).max(50),
    settings: settings.optional(),
    // Write-only: the Slack webhook URL, or the http auth header's value.
    credential: text(8192).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const updateBody = z
  .object({
    name: text(200),
    event_types: z.array(z.string().max(200)).max(50),
    settings,
    // Replaces the credential; "" removes an http connector's.
    credential: text(8192),
    enabled: z.boolean(),
  })
  .partial()
  .strict();

const pageQuery = z
  .object({
    page_size: z.coerce.number().int().min(1).max(100).optional(),
    page_token: z.string().max(512).optional(),
  })
  .strict();

const settingsOf = (input: z.infer<typeof settings>) => ({
  url: input.url ?? '',
  authHeader: input.auth_header ?? '',
});

/**
 * /api/v1/connectors: the caller's connectors to third-party APIs — a Slack incoming webhook or any
 * HTTP API — that receive their chosen events (integration-service, decision 0024). They are delivery
 * targets like webhook endpoints, so the same scopes guard them: reads `webhooks:read`, changes
 * `webhooks:write`. Credentials are write-only: no answer carries one (`credential_hint` shows the last
 * 4 characters). Another user's connector is a 404, like a missing one. DELETE answers 204; a test
 * answers 202 with the pending delivery (its outcome is in the log).
 */
export function connectorRoutes(integrations: IntegrationServiceClient, requireAuth: RequireAuth): Router {
  const router = Router();
  const read = requireAuth(SCOPES.webhooksRead);
  const write = requireAuth(SCOPES.webhooksWrite);
  const connectors = integrations.connectors;

  router.post(
    '/',
    operation({
      tag: 'connectors',
      summary: 'Add a connector',
      description:
        'A `slack` incoming webhook (its URL is the credential) or an `http` API (a URL and an optional auth header whose value is the credential) that receives the chosen event types.',
      body: createBody,
      responses: {
        201: {
          description: 'The connector (never its credential)',
          data: z.object({ connector: connectorSchema }),
        },
      },
      errors: ['CONFLICT'],
    }),
    write,
    validateBody(createBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof createBody>;
      const { connector } = await connectors.create({
        kind: input.kind,
        name: input.name,
        eventTypes: input.event_types,
        ...(input.settings && { settings: settingsOf(input.settings) }),
        credential: input.credential ?? '',
        ...(input.enabled !== undefined && { enabled: input.enabled }),
      });
      sendData(res, 201, { connector: presentConnector(connector) });
    },
  );

  router.get(
    '/',
    operation({
      tag: 'connectors',
      summary: 'List your connectors',
      responses: {
        200: { description: 'Never a credential', data: z.object({ connectors: z.array(connectorSchema) }) },
      },
    }),
    read,
    async (_req, res) => {
      const { connectors: list } = await connectors.list();
      sendData(res, 200, { connectors: (list ?? []).map(presentConnector) });
    },
  );

  router.get(
    '/:id',
    operation({
      tag: 'connectors',
      summary: 'Read a connector',
      params: { id: uuidPath },
      responses: { 200: { description: 'The connector', data: z.object({ connector: connectorSchema }) } },
      errors: ['NOT_FOUND'],
    }),
    read,
    async (req, res) => {
      const { connector } = await connectors.get(param(req, 'id'));
      sendData(res, 200, { connector: presentConnector(connector) });
    },
  );

  // PATCH semantics (RFC 5789): only the members present change; `settings` is replaced whole.
  router.patch(
    '/:id',
    operation({
      tag: 'connectors',
      summary: 'Change a connector',
      description:
        'Only the members present change; `settings` is replaced whole; a new `credential` replaces the old one.',
      params: { id: uuidPath },
      body: updateBody,
      responses: { 200: { description: 'The connector', data: z.object({ connector: connectorSchema }) } },
      errors: ['NOT_FOUND'],
    }),
    write,
    validateBody(updateBody),
    async (req, res) => {
      const input = req.body as z.infer<typeof updateBody>;
      const { connector } = await connectors.update({
        id: param(req, 'id'),
        ...(input.name !== undefined && { name: input.name }),
        ...(input.event_types !== undefined && { eventTypes: input.event_types, setEventTypes: true }),
        ...(input.settings !== undefined && { settings: settingsOf(input.settings) }),
        ...(input.credential !== undefined && { credential: input.credential }),
        ...(input.enabled !== undefined && { enabled: input.enabled }),
      });
      sendData(res, 200, { connector: presentConnector(connector) });
    },
  );

  router.delete(
    '/:id',
    operation({
      tag: 'connectors',
      summary: 'Delete a connector',
      params: { id: uuidPath },
      responses: { 204: { description: 'Deleted, with its deliveries and credential' } },
      errors: ['NOT_FOUND'],
    }),
    write,
    async (req, res) => {
      await connectors.delete(param(req, 'id'));
      res.status(204).end();
    },
  );

  router.post(
    '/:id/test',
    operation({
      tag: 'connectors',
      summary: 'Send a test event to a connector',
      params: { id: uuidPath },
      responses: {
        202: {
          description: 'The pending delivery (its outcome is in the log)',
          data: z.object({ delivery: connectorDeliverySchema }),
        },
      },
      errors: ['NOT_FOUND', 'PRECONDITION_FAILED'],
    }),
    write,
    noBody(),
    async (req, res) => {
      const { delivery } = await connectors.test(param(req, 'id'));
      sendData(res, 202, { delivery: presentConnectorDelivery(delivery) });
    },
  );

  router.get(
    '/:id/deliveries',
    operation({
      tag: 'connectors',
      summary: "A connector's delivery log",
      description: 'Newest first, each with its attempts.',
      params: { id: uuidPath },
      query: pageQuery,
      responses: {
        200: {
          description: 'A page of deliveries',
          data: z.object({ deliveries: z.array(connectorDeliverySchema), next_page_token: nextPageToken }),
        },
      },
      errors: ['NOT_FOUND'],
    }),
    read,
    validateQuery(pageQuery),
    async (req, res) => {
      const query = validatedQuery(res, pageQuery);
      const page = await connectors.deliveries({
        connectorId: param(req, 'id'),
        pageSize: query.page_size ?? 0,
        pageToken: query.page_token ?? '',
      });
      sendData(res, 200, {
        deliveries: (page.deliveries ?? []).map(presentConnectorDelivery),
        next_page_token: page.nextPageToken || null,
      });
    },
  );

  return router;
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}
