import type { AsyncHandlers, teAiV1 } from '@te/grpc';
import type { RegistryView } from '../domain/ports.js';
import { principal } from './inference.handlers.js';
import { toModel } from './messages.js';

export interface CatalogHandlerDeps {
  registry: RegistryView;
  /** Versions on providers this replica has not configured are not offered. */
  callable: (providerId: string) => boolean;
  clock: () => Date;
}

/** te.ai.v1.ModelCatalog: every alias and version the caller may name, with what it can do. */
export function catalogHandlers(deps: CatalogHandlerDeps): AsyncHandlers<teAiV1.ModelCatalogHandlers> {
  return {
    async ListModels(_request, ctx) {
      principal(ctx);
      const entries = deps.registry
        .resolver()
        .catalog({ now: deps.clock(), callable: (version) => deps.callable(version.providerId) });
      return { models: entries.map(toModel) };
    },
  };
}
