import { AppError } from '@te/platform';
import {
  intersectCapabilities,
  isRetired,
  type ModelCapabilities,
  type ModelVersion,
  type RegistrySnapshot,
} from './registry.js';

/** What a name in InferRequest.model resolved to. */
export interface ResolvedModel {
  /** The name as asked for. */
  name: string;
  kind: 'alias' | 'version';
  /** The version asked first (for an alias: the weighted draw); the same as chain[0]. */
  version: ModelVersion;
  /**
   * The versions to try, in order, when the one before fails (decision 0015): the draw first, then
   * the alias's other usable targets by weight, highest first (weight-0 targets last: never drawn,
   * fallback only). A version name is a chain of one.
   */
  chain: ModelVersion[];
  /** What the name promises: the version's own, or for an alias what all its usable targets can do. */
  capabilities: ModelCapabilities;
}

/** A name callers may use, as ModelCatalog.ListModels lists it. */
export interface CatalogEntry {
  name: string;
  kind: 'alias' | 'version';
  capabilities: ModelCapabilities;
  deprecatedAt?: Date;
  retiresAt?: Date;
}

export interface ResolveOptions {
  now: Date;
  /** Uniform in [0, 1); Math.random in production, scripted in tests. */
  random: () => number;
  /** False for versions this replica cannot call (their provider is not configured here). */
  callable: (version: ModelVersion) => boolean;
}

/**
 * Names → versions over one registry snapshot. Alias names are looked up first, then version names
 * ("<model>@<version>"); the repository keeps the two sets of names apart.
 */
export class ModelResolver {
  private readonly versionsById: Map<string, ModelVersion>;
  private readonly versionsByName: Map<string, ModelVersion>;

  constructor(private readonly snapshot: RegistrySnapshot) {
    this.versionsById = new Map(snapshot.versions.map((version) => [version.id, version]));
    this.versionsByName = new Map(snapshot.versions.map((version) => [version.name, version]));
  }

  resolve(name: string, options: ResolveOptions): ResolvedModel {
    const usable = (version: ModelVersion | undefined): version is ModelVersion =>
      version !== undefined && !isRetired(version, options.now) && options.callable(version);
    const alias = this.snapshot.aliases.find((candidate) => candidate.name === name);
    if (alias) {
      const targets = alias.targets
        .map((target) => ({ version: this.versionsById.get(target.versionId), weight: target.weight }))
        .filter((target): target is { version: ModelVersion; weight: number } => usable(target.version));
      const version = pickWeighted(targets, options.random);
      if (!version) throw notFound(name);
      return {
        name,
        kind: 'alias',
        version,
        chain: fallbackChain(version, targets),
        capabilities: intersectCapabilities(targets.map((target) => target.version)),
      };
    }
    const version = this.versionsByName.get(name);
    if (!usable(version)) throw notFound(name);
    return { name, kind: 'version', version, chain: [version], capabilities: version.capabilities };
  }

  /** Every alias with a usable target, and every usable version, by name. */
  catalog(options: Omit<ResolveOptions, 'random'>): CatalogEntry[] {
    const entries: CatalogEntry[] = [];
    for (const alias of this.snapshot.aliases) {
      try {
        const resolved = this.resolve(alias.name, { ...options, random: () => 0 });
        entries.push({ name: alias.name, kind: 'alias', capabilities: resolved.capabilities });
      } catch {
        // No usable target: not a name the caller can use.
      }
    }
    for (const version of this.snapshot.versions) {
      if (isRetired(version, options.now) || !options.callable(version)) continue;
      entries.push({
        name: version.name,
        kind: 'version',
        capabilities: version.capabilities,
        deprecatedAt: version.deprecatedAt,
        retiresAt: version.retiresAt,
      });
    }
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * A draw proportional to the integer weights: random() ∈ [0, 1) scaled to [0, total) and matched
 * against the running sums. Weight-0 targets are never drawn (a drained canary, or a fallback-only target).
 */
export function pickWeighted<T>(targets: readonly { version: T; weight: number }[], random: () => number) {
  const total = targets.reduce((sum, target) => sum + target.weight, 0);
  if (total <= 0) return undefined;
  const point = Math.min(Math.floor(random() * total), total - 1);
  let running = 0;
  for (const target of targets) {
    running += target.weight;
    if (point < running) return target.version;
  }
  return undefined;
}

/**
 * The drawn version, then the other targets by weight, highest first; equal weights keep the alias's
 * order. Weight 0 sorts last: such a target is never drawn but still answers when all before it failed.
 */
export function fallbackChain<T>(drawn: T, targets: readonly { version: T; weight: number }[]): T[] {
  const others = targets
    .filter((target) => target.version !== drawn)
    .map((target, index) => ({ ...target, index }))
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((target) => target.version);
  return [drawn, ...others];
}

function notFound(name: string): AppError {
  return new AppError('NOT_FOUND', `There is no model "${name}" you can use`, { details: { model: name } });
}
