import type { AsyncHandlers, teAiV1 } from '@te/grpc';
import type { AdminModelVersion, AliasRecord, ModelAdminDeps } from '../domain/model-admin.js';
import {
  createModelVersion,
  deleteAlias,
  listAliases,
  listModelVersions,
  setAliasTargets,
  updateModelVersionLifecycle,
} from '../domain/model-admin.use-cases.js';

/** te.ai.v1.ModelAdmin: thin; the caller comes from the call context, the use cases check it. */
export function modelAdminHandlers(deps: ModelAdminDeps): AsyncHandlers<teAiV1.ModelAdminHandlers> {
  return {
    async ListModelVersions(_request, ctx) {
      const versions = await listModelVersions(ctx.principal, deps);
      return { versions: versions.map(toVersionMessage) };
    },

    async CreateModelVersion(request, ctx) {
      const version = await createModelVersion(
        ctx.principal,
        {
          model: request.model,
          version: request.version,
          providerId: request.providerId,
          providerModel: request.providerModel,
          parametersJson: request.parametersJson,
          capabilities: request.capabilities ? { ...request.capabilities } : undefined,
          inputPricePerMillion: request.inputPricePerMillion,
          outputPricePerMillion: request.outputPricePerMillion,
          deprecatedAt: request.deprecatedAt,
          retiresAt: request.retiresAt,
        },
        deps,
      );
      return { version: toVersionMessage(version) };
    },

    async UpdateModelVersionLifecycle(request, ctx) {
      const version = await updateModelVersionLifecycle(
        ctx.principal,
        { name: request.name, deprecatedAt: request.deprecatedAt, retiresAt: request.retiresAt },
        deps,
      );
      return { version: toVersionMessage(version) };
    },

    async ListAliases(_request, ctx) {
      const aliases = await listAliases(ctx.principal, deps);
      return { aliases: aliases.map(toAliasMessage) };
    },

    async SetAliasTargets(request, ctx) {
      const { alias, created } = await setAliasTargets(
        ctx.principal,
        {
          alias: request.alias,
          targets: request.targets.map(({ version, weight }) => ({ version, weight })),
        },
        deps,
      );
      return { alias: toAliasMessage(alias), created };
    },

    async DeleteAlias(request, ctx) {
      await deleteAlias(ctx.principal, { alias: request.alias }, deps);
      return {};
    },
  };
}

function toVersionMessage(version: AdminModelVersion): teAiV1.ModelVersion {
  return {
    name: version.name,
    model: version.model,
    version: version.version,
    providerId: version.providerId,
    providerModel: version.providerModel,
    parametersJson: JSON.stringify(version.parameters),
    capabilities: { ...version.capabilities },
    inputPricePerMillion: version.inputPricePerMillion,
    outputPricePerMillion: version.outputPricePerMillion,
    deprecatedAt: version.deprecatedAt?.toISOString() ?? '',
    retiresAt: version.retiresAt?.toISOString() ?? '',
    createdAt: version.createdAt.toISOString(),
    status: version.status,
    providerConfigured: version.providerConfigured,
  };
}

function toAliasMessage(alias: AliasRecord): teAiV1.ModelAlias {
  return {
    name: alias.name,
    targets: alias.targets.map(({ version, weight }) => ({ version, weight })),
    createdAt: alias.createdAt.toISOString(),
    updatedAt: alias.updatedAt.toISOString(),
  };
}
