import { Router } from 'express';
import { z } from 'zod';
import { SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { AiGatewayClient } from '../clients/ai-gateway.client.js';
import { sendData } from '../http/envelope.js';
import { validateQuery } from '../http/validate-query.js';
import { presentModel } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { modelSchema } from '../openapi/schemas.js';

const noQuery = z.object({}).strict();

/**
 * /api/v1/models: every alias and model version the caller may name when asking for an explanation,
 * with what each can do (ai-gateway-service's ModelCatalog, which decides per caller).
 */
export function modelRoutes(ai: AiGatewayClient, requireAuth: RequireAuth): Router {
  const router = Router();

  router.get(
    '/',
    operation({
      tag: 'models',
      summary: 'The models you may name',
      query: noQuery,
      responses: {
        200: { description: 'Aliases and versions', data: z.object({ models: z.array(modelSchema) }) },
      },
    }),
    requireAuth(SCOPES.explain),
    validateQuery(noQuery),
    async (_req, res) => {
      const { models } = await ai.models.list();
      sendData(res, 200, { models: (models ?? []).map(presentModel) });
    },
  );

  return router;
}
