import { Router } from 'express';
import { z } from 'zod';
import { SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { UserServiceClient } from '../clients/user-service.client.js';
import { sendData } from '../http/envelope.js';
import { validatedQuery, validateQuery } from '../http/validate-query.js';
import { presentUsage } from './presenters.js';
import { dayParameter } from './usage.routes.js';
import { operation } from '../openapi/operation.js';
import { usageSchema } from '../openapi/schemas.js';

const usageReportQuery = z
  .object({
    from: dayParameter.optional(),
    to: dayParameter.optional(),
    limit: z
      .string()
      .regex(/^[1-9]\d{0,3}$/, 'must be an integer from 1 to 1000')
      .transform(Number)
      .optional(),
  })
  .strict();

/**
 * /api/v1/admin: operator views. Each route needs an admin-only scope (a normal user's token lacks it:
 * 403 insufficient_scope), and user-service checks the admin role again.
 */
export function adminRoutes(users: UserServiceClient, requireAuth: RequireAuth): Router {
  const router = Router();

  // Usage across users over [from, to] (default the last 30 days), one row per user and model,
  // largest cost first, at most `limit` rows (default 100, at most 1000).
  router.get(
    '/usage',
    operation({
      tag: 'admin',
      summary: 'Usage across users, largest cost first',
      query: usageReportQuery,
      responses: {
        200: {
          description: 'One row per user and model',
          data: z.object({
            rows: z.array(z.object({ user_id: z.string(), model: z.string(), ...usageSchema.shape })),
          }),
        },
      },
    }),
    requireAuth(SCOPES.adminUsageRead),
    validateQuery(usageReportQuery),
    async (_req, res) => {
      const query = validatedQuery(res, usageReportQuery);
      const report = await users.usage.report({
        from: query.from ?? '',
        to: query.to ?? '',
        limit: query.limit ?? 0,
      });
      sendData(res, 200, {
        rows: (report.rows ?? []).map((row) => ({
          user_id: row.userId,
          model: row.model,
          ...presentUsage(row),
        })),
      });
    },
  );

  return router;
}
