/**
 * The model registry as the inference use cases see it: immutable model versions ("<model>@<version>")
 * and aliases pointing at versions with integer weights. Decision 0014.
 */

export interface ModelCapabilities {
  vision: boolean;
  streaming: boolean;
  /** Tokens the model accepts (prompt and answer together). */
  contextWindow: number;
  /** Longest answer the model gives. */
  maxOutputTokens: number;
}

export interface ModelVersion {
  id: string;
  /** "<model>@<version>", e.g. "local-explainer@1". */
  name: string;
  model: string;
  version: string;
  /** A configured provider id (AI_PROVIDERS). */
  providerId: string;
  /** The provider's own model id ("gpt-4o-mini"). */
  providerModel: string;
  /** Provider call parameters, e.g. { "temperature": 0.2 }. */
  parameters: Record<string, unknown>;
  capabilities: ModelCapabilities;
  /** US dollars per million tokens as exact decimal strings ("0.15"). */
  inputPricePerMillion: string;
  outputPricePerMillion: string;
  deprecatedAt?: Date;
  retiresAt?: Date;
  createdAt: Date;
}

export interface AliasTarget {
  versionId: string;
  weight: number;
}

export interface ModelAlias {
  /** "explainer", "explainer@stable". */
  name: string;
  targets: AliasTarget[];
}

/** One consistent read of the whole registry (it is small: tens of rows). */
export interface RegistrySnapshot {
  versions: ModelVersion[];
  aliases: ModelAlias[];
}

export interface NewModelVersion {
  model: string;
  version: string;
  providerId: string;
  providerModel: string;
  parameters?: Record<string, unknown>;
  capabilities: ModelCapabilities;
  inputPricePerMillion: string;
  outputPricePerMillion: string;
  deprecatedAt?: Date;
  retiresAt?: Date;
}

export const REGISTRY_CHANGED = 'ai.registry.changed';

export function versionName(model: string, version: string): string {
  return `${model}@${version}`;
}

export function isRetired(version: ModelVersion, now: Date): boolean {
  return version.retiresAt !== undefined && version.retiresAt.getTime() <= now.getTime();
}

/** What every version can do: the capabilities an alias over them promises. */
export function intersectCapabilities(versions: readonly ModelVersion[]): ModelCapabilities {
  return {
    vision: versions.every((version) => version.capabilities.vision),
    streaming: versions.every((version) => version.capabilities.streaming),
    contextWindow: Math.min(...versions.map((version) => version.capabilities.contextWindow)),
    maxOutputTokens: Math.min(...versions.map((version) => version.capabilities.maxOutputTokens)),
  };
}
