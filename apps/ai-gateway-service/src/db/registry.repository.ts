import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '@te/database';
import { createEvent, enqueueEvent } from '@te/events';
import { AppError, type FieldError } from '@te/platform';
import { isValidPrice } from '../domain/cost.js';
import type { AliasRecord, LifecycleChange, ModelAdminStore } from '../domain/model-admin.js';
import type { RegistryStore } from '../domain/ports.js';
import {
  REGISTRY_CHANGED,
  versionName,
  type ModelAlias,
  type ModelVersion,
  type NewModelVersion,
  type RegistrySnapshot,
} from '../domain/registry.js';
import type { Prisma } from './generated/prisma/client.js';
import type { AiGatewayDb } from './prisma-client.js';

type Tx = Prisma.TransactionClient;
type VersionRow = Prisma.ModelVersionGetPayload<{ include: { model: true } }>;

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const VERSION_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;
const ALIAS_NAME = /^[a-z0-9][a-z0-9._-]{0,99}(@[a-z0-9][a-z0-9._-]{0,49})?$/;
const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_TARGETS = 10;
const MAX_WEIGHT = 10_000;

/**
 * Models, immutable versions and weighted aliases (decision 0014). Every write enqueues
 * `ai.registry.changed` in its transaction. Built on the client it opens its own transactions; built
 * on a transaction (the start-up seed) it writes inside that one.
 */
export class RegistryRepository implements RegistryStore, ModelAdminStore {
  constructor(
    private readonly db: AiGatewayDb | Tx,
    /** Called after a commit that wrote outbox events. */
    private readonly onCommitted: () => void = () => undefined,
    private readonly source = 'ai-gateway-service',
  ) {}

  async snapshot(): Promise<RegistrySnapshot> {
    const [versions, aliases] = await Promise.all([
      this.db.modelVersion.findMany({ include: { model: true }, orderBy: { createdAt: 'asc' } }),
      this.db.modelAlias.findMany({ include: { targets: true }, orderBy: { name: 'asc' } }),
    ]);
    return {
      versions: versions.map(toVersion),
      aliases: aliases.map((alias) => ({
        name: alias.name,
        targets: alias.targets.map((target) => ({ versionId: target.versionId, weight: target.weight })),
      })),
    };
  }

  async findVersion(name: string): Promise<ModelVersion | undefined> {
    const row = await findVersionRow(this.db, name);
    return row ? toVersion(row) : undefined;
  }

  async findAlias(name: string): Promise<ModelAlias | undefined> {
    const row = await this.db.modelAlias.findUnique({ where: { name }, include: { targets: true } });
    return row
      ? { name: row.name, targets: row.targets.map(({ versionId, weight }) => ({ versionId, weight })) }
      : undefined;
  }

  /** A new version (its model is created when missing). CONFLICT when the name is taken. */
  async createVersion(input: NewModelVersion): Promise<ModelVersion> {
    checkNewVersion(input);
    const name = versionName(input.model, input.version);
    try {
      return await this.write(async (tx) => {
        if (await tx.modelAlias.findUnique({ where: { name } }))
          throw new AppError('CONFLICT', `"${name}" is already an alias`);
        const model = await tx.model.upsert({
          where: { name: input.model },
          create: { id: randomUUID(), name: input.model },
          update: {},
        });
        const row = await tx.modelVersion.create({
          data: {
            id: randomUUID(),
            modelId: model.id,
            version: input.version,
            providerId: input.providerId,
            providerModel: input.providerModel,
            parameters: (input.parameters ?? {}) as Prisma.InputJsonObject,
            vision: input.capabilities.vision,
            streaming: input.capabilities.streaming,
            contextWindow: input.capabilities.contextWindow,
            maxOutputTokens: input.capabilities.maxOutputTokens,
            inputPricePerMillion: input.inputPricePerMillion,
            outputPricePerMillion: input.outputPricePerMillion,
            deprecatedAt: input.deprecatedAt ?? null,
            retiresAt: input.retiresAt ?? null,
          },
          include: { model: true },
        });
        await this.changed(tx, { version: name });
        return toVersion(row);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('CONFLICT', `The model version "${name}" exists already`);
      throw error;
    }
  }

  /** Creates the alias or replaces all its targets. Targets name versions ("<model>@<version>"). */
  async setAliasTargets(alias: string, targets: { version: string; weight: number }[]): Promise<ModelAlias> {
    checkAliasTargets(alias, targets);
    return this.write(async (tx) => {
      const fields: FieldError[] = [];
      const resolved: { versionId: string; weight: number }[] = [];
      for (const [index, target] of targets.entries()) {
        const row = await findVersionRow(tx, target.version);
        if (row) resolved.push({ versionId: row.id, weight: target.weight });
        else
          fields.push({
            field: `targets[${index}].version`,
            message: `no model version "${target.version}"`,
          });
      }
      if (fields.length) throw new AppError('VALIDATION_FAILED', 'The alias targets are invalid', { fields });
      if (await findVersionRow(tx, alias))
        throw new AppError('CONFLICT', `"${alias}" is already a model version`);
      await tx.modelAlias.upsert({
        where: { name: alias },
        create: { name: alias },
        update: { updatedAt: new Date() },
      });
      await tx.aliasTarget.deleteMany({ where: { aliasName: alias } });
      await tx.aliasTarget.createMany({ data: resolved.map((target) => ({ aliasName: alias, ...target })) });
      await this.changed(tx, { alias });
      return { name: alias, targets: resolved };
    });
  }

  /**
   * Sets or clears a version's deprecation and retirement dates (undefined: unchanged, null: cleared),
   * the only fields of a version that change. NOT_FOUND when there is no such version;
   * VALIDATION_FAILED when deprecation would come after retirement.
   */
  async updateVersionLifecycle(name: string, change: LifecycleChange): Promise<ModelVersion> {
    return this.write(async (tx) => {
      const row = await findVersionRow(tx, name);
      if (!row) throw new AppError('NOT_FOUND', `There is no model version "${name}"`);
      const deprecatedAt = change.deprecatedAt === undefined ? row.deprecatedAt : change.deprecatedAt;
      const retiresAt = change.retiresAt === undefined ? row.retiresAt : change.retiresAt;
      checkLifecycle(deprecatedAt, retiresAt);
      const updated = await tx.modelVersion.update({
        where: { id: row.id },
        data: { deprecatedAt, retiresAt },
        include: { model: true },
      });
      await this.changed(tx, { version: name });
      return toVersion(updated);
    });
  }

  /** Every alias (or the one named) with its targets named (largest weight first) and its times, by name. */
  async listAliases(name?: string): Promise<AliasRecord[]> {
    const rows = await this.db.modelAlias.findMany({
      ...(name !== undefined && { where: { name } }),
      include: { targets: { include: { version: { include: { model: true } } } } },
      orderBy: { name: 'asc' },
    });
    return rows.map((row) => ({
      name: row.name,
      targets: row.targets
        .map((target) => ({
          version: versionName(target.version.model.name, target.version.version),
          weight: target.weight,
        }))
        .sort((a, b) => b.weight - a.weight || a.version.localeCompare(b.version)),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    }));
  }

  /** Removes an alias and its targets. NOT_FOUND when there is none. */
  async deleteAlias(name: string): Promise<void> {
    await this.write(async (tx) => {
      const { count } = await tx.modelAlias.deleteMany({ where: { name } });
      if (count === 0) throw new AppError('NOT_FOUND', `There is no alias "${name}"`);
      await this.changed(tx, { alias: name });
    });
  }

  private async changed(tx: Tx, data: { version?: string; alias?: string }): Promise<void> {
    await enqueueEvent(tx, createEvent({ type: REGISTRY_CHANGED, source: this.source, data }));
  }

  private async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!('$transaction' in this.db)) return work(this.db);
    const result = await this.db.$transaction(work);
    this.onCommitted();
    return result;
  }
}

function findVersionRow(db: AiGatewayDb | Tx, name: string): Promise<VersionRow | null> {
  const at = name.lastIndexOf('@');
  if (at <= 0) return Promise.resolve(null);
  return db.modelVersion.findFirst({
    where: { version: name.slice(at + 1), model: { name: name.slice(0, at) } },
    include: { model: true },
  });
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    id: row.id,
    name: versionName(row.model.name, row.version),
    model: row.model.name,
    version: row.version,
    providerId: row.providerId,
    providerModel: row.providerModel,
    parameters: (row.parameters && typeof row.parameters === 'object' ? row.parameters : {}) as Record<
      string,
      unknown
    >,
    capabilities: {
      vision: row.vision,
      streaming: row.streaming,
      contextWindow: row.contextWindow,
      maxOutputTokens: row.maxOutputTokens,
    },
    // NUMERIC(14,6) as text: exact, never a float.
    inputPricePerMillion: row.inputPricePerMillion.toFixed(6),
    outputPricePerMillion: row.outputPricePerMillion.toFixed(6),
    deprecatedAt: row.deprecatedAt ?? undefined,
    retiresAt: row.retiresAt ?? undefined,
    createdAt: row.createdAt,
  };
}

function checkNewVersion(input: NewModelVersion): void {
  const fields: FieldError[] = [];
  const positive = (value: number) => Number.isInteger(value) && value > 0 && value <= 100_000_000;
  if (!MODEL_NAME.test(input.model))
    fields.push({ field: 'model', message: 'a-z, 0-9, ".", "_" or "-", at most 100' });
  if (!VERSION_LABEL.test(input.version))
    fields.push({ field: 'version', message: 'letters, digits, ".", "_" or "-", at most 50' });
  if (!PROVIDER_ID.test(input.providerId))
    fields.push({ field: 'provider_id', message: 'is not a provider id' });
  if (!input.providerModel || input.providerModel.length > 200)
    fields.push({ field: 'provider_model', message: 'must be 1–200 characters' });
  if (!positive(input.capabilities.contextWindow))
    fields.push({ field: 'context_window', message: 'must be a whole number above 0' });
  if (!positive(input.capabilities.maxOutputTokens))
    fields.push({ field: 'max_output_tokens', message: 'must be a whole number above 0' });
  for (const [field, price] of [
    ['input_price_per_million', input.inputPricePerMillion],
    ['output_price_per_million', input.outputPricePerMillion],
  ] as const)
    if (!isValidPrice(price))
      fields.push({ field, message: 'must be a decimal ≥ 0 with at most 6 fraction digits' });
  if (input.deprecatedAt && input.retiresAt && input.deprecatedAt > input.retiresAt)
    fields.push({ field: 'deprecated_at', message: 'must not be after retires_at' });
  if (fields.length) throw new AppError('VALIDATION_FAILED', 'The model version is invalid', { fields });
}

function checkLifecycle(deprecatedAt: Date | null, retiresAt: Date | null): void {
  if (deprecatedAt && retiresAt && deprecatedAt > retiresAt)
    throw new AppError('VALIDATION_FAILED', 'The model version lifecycle is invalid', {
      fields: [{ field: 'deprecated_at', message: 'must not be after retires_at' }],
    });
}

function checkAliasTargets(alias: string, targets: { version: string; weight: number }[]): void {
  const fields: FieldError[] = [];
  if (!ALIAS_NAME.test(alias))
    fields.push({ field: 'alias', message: 'must look like "explainer" or "explainer@stable"' });
  if (targets.length === 0 || targets.length > MAX_TARGETS)
    fields.push({ field: 'targets', message: `must have 1–${MAX_TARGETS} targets` });
  targets.forEach((target, index) => {
    if (!Number.isInteger(target.weight) || target.weight < 0 || target.weight > MAX_WEIGHT)
      fields.push({ field: `targets[${index}].weight`, message: `must be a whole number 0–${MAX_WEIGHT}` });
  });
  if (new Set(targets.map((target) => target.version)).size !== targets.length)
    fields.push({ field: 'targets', message: 'must name each version once' });
  if (
    targets.length &&
    targets.reduce((sum, target) => sum + (target.weight > 0 ? target.weight : 0), 0) === 0
  )
    fields.push({ field: 'targets', message: 'at least one weight must be above 0' });
  if (fields.length) throw new AppError('VALIDATION_FAILED', 'The alias is invalid', { fields });
}
