import { Router } from 'express';
import { z } from 'zod';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { operation } from '../openapi/operation.js';

/**
 * The public keys that verify access tokens (RFC 7517 JWK Set), for clients and resource servers
 * that verify tokens themselves. Served as a bare JWK Set (not the envelope): that is the format
 * every JOSE library fetches.
 */
export function wellKnownRoutes(users: UserServiceClient): Router {
  const router = Router();
  router.get(
    '/jwks.json',
    operation({
      tag: 'discovery',
      summary: 'The keys that verify access tokens (JWK Set, RFC 7517)',
      responses: {
        200: {
          description: 'A bare JWK Set (not the envelope); cacheable for 5 minutes',
          content: { 'application/json': z.object({ keys: z.array(z.record(z.string(), z.string())) }) },
        },
      },
    }),
    async (_req, res) => {
      const { keys } = await users.getJwks();
      const jwks = (keys ?? []).map((key) =>
        Object.fromEntries(
          Object.entries(key).filter(([, value]) => typeof value === 'string' && value !== ''),
        ),
      );
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json({ keys: jwks });
    },
  );
  return router;
}
