import express, { Router } from 'express';
import { z } from 'zod';
import { AppError } from '@te/platform';
import type { IntegrationServiceClient } from '../clients/integration-service.client.js';
import { sendData } from '../http/envelope.js';
import { operation } from '../openapi/operation.js';

/**
 * The headers a verifier reads (integration-service src/inbound): GitHub, Stripe, Standard Webhooks
 * (and Svix's names for them). Nothing else of the request travels on.
 */
export const FORWARDED_HEADERS = [
  'content-type',
  'user-agent',
  'x-github-delivery',
  'x-github-event',
  'x-github-hook-id',
  'x-hub-signature-256',
  'stripe-signature',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'svix-id',
  'svix-timestamp',
  'svix-signature',
] as const;

const SOURCE_ID = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * POST /api/v1/integrations/inbound/:source: webhook deliveries from configured third parties. No
 * user credential: the sender's signature over the raw body is the authentication, checked by
 * integration-service. So the body is read here as bytes, exactly as sent (never parsed and
 * re-serialised, which would break the signature), up to `maxBytes` (413 beyond). Mount before the
 * app's JSON parser.
 */
export function inboundWebhookRoutes(integrations: IntegrationServiceClient, maxBytes: number): Router {
  const router = Router();
  // Any content type: GitHub may send form-encoded bodies, which the service refuses with a reason.
  const rawBody = express.raw({ type: () => true, limit: maxBytes });

  router.post(
    '/:source',
    operation({
      tag: 'inboundWebhooks',
      summary: 'Receive a webhook delivery from a configured third party',
      description:
        'No user credential: the sender’s signature over the raw body (GitHub `X-Hub-Signature-256`, Stripe ' +
        '`Stripe-Signature`, Standard Webhooks / Svix `webhook-*`) is the credential. The body is read as ' +
        'sent (any content type). A retry of a message already accepted is 200 with `duplicate: true`.',
      params: { source: z.string().regex(SOURCE_ID).describe('A configured source, e.g. github') },
      bodyContent: { '*/*': { description: 'The delivery, byte for byte as the sender signed it' } },
      responses: {
        200: {
          description: 'Accepted (or already accepted)',
          data: z.object({ received: z.literal(true), duplicate: z.boolean(), message_id: z.string() }),
        },
      },
      errors: [
        'VALIDATION_FAILED',
        'BAD_REQUEST',
        'UNAUTHENTICATED',
        'NOT_FOUND',
        'CONFLICT',
        'PAYLOAD_TOO_LARGE',
      ],
    }),
    rawBody,
    async (req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      const source = req.params['source'] as string;
      // Unknown and malformed alike: the service is not asked about a name that cannot exist.
      if (!SOURCE_ID.test(source)) throw new AppError('NOT_FOUND', 'No inbound webhook source by that name');
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_HEADERS) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { messageId, duplicate } = await integrations.inbound.receive({ source, headers, body });
      sendData(res, 200, { received: true, duplicate, message_id: messageId });
    },
  );

  return router;
}
