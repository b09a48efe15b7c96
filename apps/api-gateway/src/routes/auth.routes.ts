import { Router } from 'express';
import { z } from 'zod';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validateBody } from '../http/validate.js';
import { presentSession } from './presenters.js';

// Types and sizes only: the email rules and password policy live in user-service, which reports every
// offending field at once as the same 400 (so a client never fixes one field per round trip).
// Lone UTF-16 surrogates would silently become U+FFFD on the way to user-service.
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => value.isWellFormed(), { message: 'must be valid Unicode text' });

const registerBody = z.object({ email: text(320), password: text(1024), name: text(400) }).strict();

const loginBody = z.object({ email: text(320), password: text(1024) }).strict();

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
