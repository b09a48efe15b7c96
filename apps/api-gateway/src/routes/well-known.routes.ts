import { Router } from 'express';
import type { UserServiceClient } from '../clients/user-service.client.js';

/**
 * The public keys that verify access tokens (RFC 7517 JWK Set), for clients and resource servers
 * that verify tokens themselves. Served as a bare JWK Set (not the envelope): that is the format
 * every JOSE library fetches.
 */
export function wellKnownRoutes(users: UserServiceClient): Router {
  const router = Router();
  router.get('/jwks.json', async (_req, res) => {
    const { keys } = await users.getJwks();
    const jwks = (keys ?? []).map((key) =>
      Object.fromEntries(
        Object.entries(key).filter(([, value]) => typeof value === 'string' && value !== ''),
      ),
    );
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json({ keys: jwks });
  });
  return router;
}
