import { Router } from 'express';
import { z } from 'zod';
import { SCOPES } from '@te/platform';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { AiGatewayClient } from '../clients/ai-gateway.client.js';
import { sendData } from '../http/envelope.js';
import { body, validateBody } from '../http/validate.js';
import { validateQuery } from '../http/validate-query.js';
import { presentModelAlias, presentModelVersion } from './presenters.js';
import { operation } from '../openapi/operation.js';
import { modelAliasSchema, modelVersionSchema } from '../openapi/schemas.js';

const noQuery = z.object({}).strict();
const MAX_PARAMETERS_JSON = 4096;
const positiveInt = z
  .number('must be a whole number above 0')
  .int('must be a whole number above 0')
  .min(1, 'must be a whole number above 0')
  .max(100_000_000, 'must be at most 100000000');
/** Exact decimal strings ("0.15"): a JSON number would pass through a binary float. */
const price = z.string('must be a decimal string, e.g. "0.15"').max(32);
/** RFC 3339 with an offset; ai-gateway-service checks the format, and that the date exists. */
const dateTime = z.string('must be an RFC 3339 date-time or null').min(1).max(64);

const newVersionBody = z
  .object({
    model: z.string().max(200),
    version: z.string().max(100),
    provider_id: z.string().max(64),
    provider_model: z.string().max(400),
    parameters: z
      .record(z.string(), z.unknown(), 'must be a JSON object')
      .refine((value) => JSON.stringify(value).length <= MAX_PARAMETERS_JSON, {
        message: `must be at most ${MAX_PARAMETERS_JSON} characters as JSON`,
      })
      .optional(),
    capabilities: z
      .object({
        vision: z.boolean(),
        streaming: z.boolean(),
        context_window: positiveInt,
        max_output_tokens: positiveInt,
      })
      .strict(),
    input_price_per_million: price,
    output_price_per_million: price,
    deprecated_at: dateTime.nullish(),
    retires_at: dateTime.nullish(),
  })
  .strict();

/** Absent: unchanged; null: cleared; a date: set. */
const lifecycleBody = z
  .object({ deprecated_at: dateTime.nullable().optional(), retires_at: dateTime.nullable().optional() })
  .strict()
  .refine((value) => value.deprecated_at !== undefined || value.retires_at !== undefined, {
    message: 'deprecated_at, retires_at or both must be given',
  });

const weight = z
  .number('must be a whole number 0–10000')
  .int('must be a whole number 0–10000')
  .min(0, 'must be a whole number 0–10000')
  .max(10_000, 'must be a whole number 0–10000');
const aliasBody = z
  .object({
    targets: z
      .array(z.object({ version: z.string().max(200), weight }).strict())
      .min(1, 'must have 1–10 targets')
      .max(10, 'must have 1–10 targets'),
  })
  .strict();

/**
 * /api/v1/admin/models: the model registry (ai-gateway-service's ModelAdmin). Reading needs
 * `admin:models:read`, changing `admin:models:write` — admin-only scopes (a normal user's token lacks
 * them: 403 insufficient_scope) — and the service checks the admin role again. A change answered here
 * is served at once by the replica that made it and by every other within seconds
 * (`ai.registry.changed`, decision 0014).
 */
export function modelsAdminRoutes(ai: AiGatewayClient, requireAuth: RequireAuth): Router {
  const router = Router();
  const read = requireAuth(SCOPES.adminModelsRead);
  const write = requireAuth(SCOPES.adminModelsWrite);

  // Every version, retired ones included, oldest first.
  router.get(
    '/versions',
    operation({
      tag: 'admin',
      summary: 'Every model version, retired ones included',
      query: noQuery,
      responses: {
        200: { description: 'Oldest first', data: z.object({ versions: z.array(modelVersionSchema) }) },
      },
    }),
    read,
    validateQuery(noQuery),
    async (_req, res) => {
      const { versions } = await ai.admin.listVersions();
      sendData(res, 200, { versions: (versions ?? []).map(presentModelVersion) });
    },
  );

  // A new immutable version; a change of provider, parameters, capabilities or prices is a new one.
  router.post(
    '/versions',
    operation({
      tag: 'admin',
      summary: 'Add a model version',
      description:
        'Versions are immutable: a change of provider, parameters, capabilities or prices is a new version.',
      body: newVersionBody,
      responses: { 201: { description: 'The new version', data: z.object({ version: modelVersionSchema }) } },
      errors: ['CONFLICT'],
    }),
    write,
    validateBody(newVersionBody),
    async (req, res) => {
      const input = body(req, newVersionBody);
      const { version } = await ai.admin.createVersion({
        model: input.model,
        version: input.version,
        providerId: input.provider_id,
        providerModel: input.provider_model,
        parametersJson: JSON.stringify(input.parameters ?? {}),
        capabilities: {
          vision: input.capabilities.vision,
          streaming: input.capabilities.streaming,
          contextWindow: input.capabilities.context_window,
          maxOutputTokens: input.capabilities.max_output_tokens,
        },
        inputPricePerMillion: input.input_price_per_million,
        outputPricePerMillion: input.output_price_per_million,
        deprecatedAt: input.deprecated_at ?? '',
        retiresAt: input.retires_at ?? '',
      });
      sendData(res, 201, { version: presentModelVersion(version) });
    },
  );

  // Deprecation and retirement dates, the only fields of a version that change.
  router.patch(
    '/versions/:name',
    operation({
      tag: 'admin',
      summary: 'Set or clear a version’s deprecation and retirement dates',
      params: { name: z.string().describe('e.g. explainer or local-explainer@1') },
      body: lifecycleBody,
      responses: { 200: { description: 'The version', data: z.object({ version: modelVersionSchema }) } },
      errors: ['NOT_FOUND'],
    }),
    write,
    validateBody(lifecycleBody),
    async (req, res) => {
      const input = body(req, lifecycleBody);
      const { version } = await ai.admin.updateLifecycle({
        name: String(req.params['name']),
        ...(input.deprecated_at !== undefined && { deprecatedAt: input.deprecated_at ?? '' }),
        ...(input.retires_at !== undefined && { retiresAt: input.retires_at ?? '' }),
      });
      sendData(res, 200, { version: presentModelVersion(version) });
    },
  );

  router.get(
    '/aliases',
    operation({
      tag: 'admin',
      summary: 'Every alias and its weighted targets',
      query: noQuery,
      responses: {
        200: { description: 'The aliases', data: z.object({ aliases: z.array(modelAliasSchema) }) },
      },
    }),
    read,
    validateQuery(noQuery),
    async (_req, res) => {
      const { aliases } = await ai.admin.listAliases();
      sendData(res, 200, { aliases: (aliases ?? []).map(presentModelAlias) });
    },
  );

  // Creates the alias (201) or replaces its targets (200): moves it, changes the weights.
  router.put(
    '/aliases/:name',
    operation({
      tag: 'admin',
      summary: 'Create an alias or move it (targets and weights)',
      params: { name: z.string().describe('e.g. explainer or local-explainer@1') },
      body: aliasBody,
      responses: {
        200: { description: 'Moved or re-weighted', data: z.object({ alias: modelAliasSchema }) },
        201: { description: 'Created', data: z.object({ alias: modelAliasSchema }) },
      },
      errors: ['CONFLICT', 'NOT_FOUND'],
    }),
    write,
    validateBody(aliasBody),
    async (req, res) => {
      const { targets } = body(req, aliasBody);
      const { alias, created } = await ai.admin.setAliasTargets({
        alias: String(req.params['name']),
        targets,
      });
      sendData(res, created ? 201 : 200, { alias: presentModelAlias(alias) });
    },
  );

  router.delete(
    '/aliases/:name',
    operation({
      tag: 'admin',
      summary: 'Delete an alias',
      params: { name: z.string().describe('e.g. explainer or local-explainer@1') },
      responses: { 204: { description: 'Deleted' } },
      errors: ['NOT_FOUND', 'PRECONDITION_FAILED'],
    }),
    write,
    async (req, res) => {
      await ai.admin.deleteAlias(String(req.params['name']));
      res.status(204).end();
    },
  );

  return router;
}
