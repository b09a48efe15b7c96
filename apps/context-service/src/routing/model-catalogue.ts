/** What routing needs to know of a model the caller may use (te.ai.v1.ModelCatalog.ListModels). */
export interface CatalogueModel {
  name: string;
  vision: boolean;
  streaming: boolean;
  /** Tokens the model accepts, prompt and answer together. */
  contextWindow: number;
  /** Longest answer the model gives. */
  maxOutputTokens: number;
}

export type ModelCatalogue = ReadonlyMap<string, CatalogueModel>;

export function catalogueOf(models: CatalogueModel[]): ModelCatalogue {
  return new Map(models.map((model) => [model.name, model]));
}

/**
 * The catalogue read through `load` and kept in memory for `ttlMs` per process, so a burst of
 * messages costs one ListModels. The catalogue is per caller in principle (the AI gateway may list
 * different models to different users), so entries are keyed by user; a failed read is not cached.
 */
export class CachedCatalogue {
  private readonly entries = new Map<string, { expires: number; catalogue: Promise<ModelCatalogue> }>();

  constructor(
    private readonly load: () => Promise<CatalogueModel[]>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(userId: string): Promise<ModelCatalogue> {
    const cached = this.entries.get(userId);
    if (cached && cached.expires > this.now()) return cached.catalogue;
    if (this.entries.size > 10_000) this.entries.clear();
    const catalogue = this.load().then(catalogueOf);
    this.entries.set(userId, { expires: this.now() + this.ttlMs, catalogue });
    catalogue.catch(() => this.entries.delete(userId));
    return catalogue;
  }
}
