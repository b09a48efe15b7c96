import { Router, type RequestHandler } from 'express';
import type { Principal } from '@te/platform';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { presentUser } from './presenters.js';

export function userRoutes(users: UserServiceClient, requireAuth: RequestHandler): Router {
  const router = Router();

  router.get('/me', requireAuth, async (_req, res) => {
    const principal = res.locals.principal as Principal;
    const { user } = await users.getUser(principal.userId);
    sendData(res, 200, { user: presentUser(user) });
  });

  return router;
}
