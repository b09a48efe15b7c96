import { Router } from 'express';
import { z } from 'zod';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody } from '../http/validate.js';
import { presentSession } from './presenters.js';

// Types and sizes only: the email rules and password policy live in user-service, which reports every
// offending field at once as the same 400 (so a client never fixes one field per round trip).
const registerBody = z
  .object({
    email: z.string().max(320),
    password: z.string().max(1024),
    name: z.string().max(400),
  })
  .strict();

const loginBody = z
  .object({
    email: z.string().max(320),
    password: z.string().max(1024),
  })
  .strict();

export function authRoutes(users: UserServiceClient): Router {
  const router = Router();

  router.post('/register', validateBody(registerBody), async (req, res) => {
    const input = req.body as z.infer<typeof registerBody>;
    sendData(res, 201, presentSession(await users.register(input)));
  });

  router.post('/login', validateBody(loginBody), async (req, res) => {
    const input = req.body as z.infer<typeof loginBody>;
    sendData(res, 200, presentSession(await users.login(input)));
  });

  return router;
}
