import { AppError, SCOPES, type FieldError, type Principal } from '@te/platform';
import {
  parseParameters,
  parseTime,
  requireAdmin,
  toAdminVersion,
  validationFailed,
  type AdminModelVersion,
  type AliasRecord,
  type LifecycleChange,
  type ModelAdminDeps,
} from './model-admin.js';
import { isRetired, type ModelCapabilities } from './registry.js';

/**
 * The use cases of te.ai.v1.ModelAdmin. Each checks the caller, validates what the repository cannot
 * (text to dates and JSON, retired targets), writes through the repository (which enqueues
 * ai.registry.changed in the same transaction) and reloads this replica's copy before answering.
 */

export async function listModelVersions(
  caller: Principal | undefined,
  deps: ModelAdminDeps,
): Promise<AdminModelVersion[]> {
  requireAdmin(caller, SCOPES.adminModelsRead);
  const { versions } = await deps.store.snapshot();
  return versions.map((version) => toAdminVersion(version, deps));
}

export interface NewVersionInput {
  model: string;
  version: string;
  providerId: string;
  providerModel: string;
  /** A JSON object, '' for none. */
  parametersJson: string;
  capabilities?: ModelCapabilities;
  inputPricePerMillion: string;
  outputPricePerMillion: string;
  /** RFC 3339, '' for none. */
  deprecatedAt: string;
  retiresAt: string;
}

export async function createModelVersion(
  caller: Principal | undefined,
  input: NewVersionInput,
  deps: ModelAdminDeps,
): Promise<AdminModelVersion> {
  requireAdmin(caller, SCOPES.adminModelsWrite);
  const problems: FieldError[] = [];
  const parameters = parseParameters(input.parametersJson, problems);
  const deprecatedAt = parseTime(input.deprecatedAt, 'deprecated_at', problems);
  const retiresAt = parseTime(input.retiresAt, 'retires_at', problems);
  if (!input.capabilities) problems.push({ field: 'capabilities', message: 'is required' });
  if (problems.length || !input.capabilities)
    throw validationFailed('The model version is invalid', problems);
  // The repository checks names, provider, capabilities and prices, and that the name is free.
  const created = await deps.store.createVersion({
    model: input.model,
    version: input.version,
    providerId: input.providerId,
    providerModel: input.providerModel,
    parameters,
    capabilities: input.capabilities,
    inputPricePerMillion: input.inputPricePerMillion,
    outputPricePerMillion: input.outputPricePerMillion,
    deprecatedAt: deprecatedAt ?? undefined,
    retiresAt: retiresAt ?? undefined,
  });
  await deps.reload();
  return toAdminVersion(created, deps);
}

export async function updateModelVersionLifecycle(
  caller: Principal | undefined,
  input: { name: string; deprecatedAt?: string; retiresAt?: string },
  deps: ModelAdminDeps,
): Promise<AdminModelVersion> {
  requireAdmin(caller, SCOPES.adminModelsWrite);
  const problems: FieldError[] = [];
  const change: LifecycleChange = {};
  if (input.deprecatedAt !== undefined)
    change.deprecatedAt = parseTime(input.deprecatedAt, 'deprecated_at', problems);
  if (input.retiresAt !== undefined) change.retiresAt = parseTime(input.retiresAt, 'retires_at', problems);
  if (input.deprecatedAt === undefined && input.retiresAt === undefined)
    problems.push({ field: 'retires_at', message: 'deprecated_at, retires_at or both must be given' });
  if (problems.length) throw validationFailed('The lifecycle change is invalid', problems);
  const updated = await deps.store.updateVersionLifecycle(input.name, change);
  await deps.reload();
  return toAdminVersion(updated, deps);
}

export async function listAliases(
  caller: Principal | undefined,
  deps: ModelAdminDeps,
): Promise<AliasRecord[]> {
  requireAdmin(caller, SCOPES.adminModelsRead);
  return deps.store.listAliases();
}

/**
 * Creates the alias or replaces its targets (moves it, changes the weights). A retired version may
 * stay only drained (weight 0): traffic sent to it would find nothing to answer.
 */
export async function setAliasTargets(
  caller: Principal | undefined,
  input: { alias: string; targets: { version: string; weight: number }[] },
  deps: ModelAdminDeps,
): Promise<{ alias: AliasRecord; created: boolean }> {
  requireAdmin(caller, SCOPES.adminModelsWrite);
  const now = deps.clock();
  const problems: FieldError[] = [];
  for (const [index, target] of input.targets.entries()) {
    if (!(target.weight > 0)) continue;
    const version = await deps.store.findVersion(target.version);
    if (version && isRetired(version, now))
      problems.push({
        field: `targets[${index}].version`,
        message: `"${target.version}" is retired: remove it or give it weight 0`,
      });
  }
  if (problems.length) throw validationFailed('The alias targets are invalid', problems);
  const existed = (await deps.store.findAlias(input.alias)) !== undefined;
  // The repository checks the name, the number of targets, the weights and that each version exists.
  await deps.store.setAliasTargets(input.alias, input.targets);
  await deps.reload();
  const [alias] = await deps.store.listAliases(input.alias);
  if (!alias) throw new AppError('NOT_FOUND', `There is no alias "${input.alias}"`); // deleted meanwhile
  return { alias, created: !existed };
}

export async function deleteAlias(
  caller: Principal | undefined,
  input: { alias: string },
  deps: ModelAdminDeps,
): Promise<void> {
  requireAdmin(caller, SCOPES.adminModelsWrite);
  if (deps.protectedAliases.includes(input.alias))
    throw new AppError(
      'PRECONDITION_FAILED',
      `"${input.alias}" is a default alias every stack is seeded with: move it to other versions instead`,
    );
  await deps.store.deleteAlias(input.alias);
  await deps.reload();
}
