import { Router } from 'express';
import { z } from 'zod';
import { SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validatedQuery, validateQuery } from '../http/validate-query.js';
import { presentUsage } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { usageSchema } from '../openapi/schemas.js';

/** A day as the API takes it; whether it is a real date and the range rules are user-service's. */
export const dayParameter = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

const myUsageQuery = z.object({ from: dayParameter.optional(), to: dayParameter.optional() }).strict();

/**
 * /api/v1/users/me/usage?from=&to=: the caller's AI usage per UTC day and model, with totals per model.
 * Both bounds inclusive; by default the last 30 days; at most 366 days. The user is always the
 * caller (user-service takes it from the verified principal, never from the request).
 */
export function usageRoutes(users: UserServiceClient, requireAuth: RequireAuth): Router {
  const router = Router();

  router.get(
    '/',
    operation({
      tag: 'account',
      summary: 'Your AI usage per UTC day and model',
      description: 'Both bounds inclusive; by default the last 30 days; at most 366 days.',
      query: myUsageQuery,
      responses: {
        200: {
          description: 'Usage per day and model, and totals per model',
          data: z.object({
            daily: z.array(z.object({ day: z.string(), model: z.string(), ...usageSchema.shape })),
            totals: z.array(z.object({ model: z.string(), ...usageSchema.shape })),
          }),
        },
      },
    }),
    requireAuth(SCOPES.usageRead),
    validateQuery(myUsageQuery),
    async (_req, res) => {
      const query = validatedQuery(res, myUsageQuery);
      const usage = await users.usage.mine({ from: query.from ?? '', to: query.to ?? '' });
      sendData(res, 200, {
        daily: (usage.daily ?? []).map((row) => ({ day: row.day, model: row.model, ...presentUsage(row) })),
        totals: (usage.totals ?? []).map((row) => ({ model: row.model, ...presentUsage(row) })),
      });
    },
  );

  return router;
}
