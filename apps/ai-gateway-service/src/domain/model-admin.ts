import { AppError, ROLES, type FieldError, type Principal, type Scope } from '@te/platform';
import type { ModelAlias, ModelVersion, NewModelVersion, RegistrySnapshot } from './registry.js';

/**
 * The model registry's administration (te.ai.v1.ModelAdmin): the shapes, the port to the registry and
 * the rules the use cases share. Decision 0014 ("Admin API").
 */

/** A lifecycle change: undefined leaves a date as it is, null clears it. */
export interface LifecycleChange {
  deprecatedAt?: Date | null;
  retiresAt?: Date | null;
}

/** An alias as administrators see it: targets by version name (largest weight first), with its times. */
export interface AliasRecord {
  name: string;
  targets: { version: string; weight: number }[];
  createdAt: Date;
  updatedAt: Date;
}

/** The registry's reads and writes for administrators; every write enqueues ai.registry.changed. */
export interface ModelAdminStore {
  snapshot(): Promise<RegistrySnapshot>;
  findVersion(name: string): Promise<ModelVersion | undefined>;
  findAlias(name: string): Promise<ModelAlias | undefined>;
  createVersion(version: NewModelVersion): Promise<ModelVersion>;
  updateVersionLifecycle(name: string, change: LifecycleChange): Promise<ModelVersion>;
  listAliases(name?: string): Promise<AliasRecord[]>;
  setAliasTargets(alias: string, targets: { version: string; weight: number }[]): Promise<ModelAlias>;
  deleteAlias(name: string): Promise<void>;
}

export interface ModelAdminDeps {
  store: ModelAdminStore;
  /**
   * Reloads this replica's registry copy from what is committed, so that when a change is answered,
   * this replica already serves it (the others follow through ai.registry.changed and their period).
   */
  reload: () => Promise<void>;
  /** Whether this replica has the provider configured (a version on another one is not served here). */
  providerConfigured: (providerId: string) => boolean;
  /** Aliases every stack is seeded with at start-up: they may be moved, not deleted (the seed would recreate them). */
  protectedAliases: readonly string[];
  clock: () => Date;
}

export type VersionStatus = 'active' | 'deprecated' | 'retired';

/** A version with what an administrator needs to know about it now. */
export interface AdminModelVersion extends ModelVersion {
  status: VersionStatus;
  providerConfigured: boolean;
}

/**
 * Administrators only: the gateway asks for the scope per route, and this service checks the admin
 * role and the scope again (defence in depth: a route wired without its scope must not open the
 * registry; an admin's API key holds only the scopes its owner chose).
 */
export function requireAdmin(caller: Principal | undefined, scope: Scope): Principal {
  if (!caller) throw new AppError('UNAUTHENTICATED', 'This call needs an authenticated caller');
  if (!caller.roles.includes(ROLES.admin) || !caller.scopes.includes(scope))
    throw new AppError('FORBIDDEN', `The model registry's administration needs the admin role and ${scope}`);
  return caller;
}

export function versionStatus(version: ModelVersion, now: Date): VersionStatus {
  if (version.retiresAt && version.retiresAt.getTime() <= now.getTime()) return 'retired';
  if (version.deprecatedAt && version.deprecatedAt.getTime() <= now.getTime()) return 'deprecated';
  return 'active';
}

export function toAdminVersion(version: ModelVersion, deps: ModelAdminDeps): AdminModelVersion {
  return {
    ...version,
    status: versionStatus(version, deps.clock()),
    providerConfigured: deps.providerConfigured(version.providerId),
  };
}

// RFC 3339 date-time (§5.6): an explicit offset is required, so a date means one instant.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time, or null for ''; a problem is recorded (and undefined returned) otherwise. */
export function parseTime(value: string, field: string, problems: FieldError[]): Date | null | undefined {
  if (value === '') return null;
  const match = RFC3339.exec(value);
  const valid =
    match !== null &&
    isCalendarDate(+match[1], +match[2], +match[3]) &&
    +match[4] < 24 &&
    +match[5] < 60 &&
    +match[6] < 60;
  const at = valid ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    problems.push({ field, message: 'must be an RFC 3339 date-time with an offset' });
    return undefined;
  }
  return at;
}

// Date parsing rolls 2026-02-30 over to March; a date that does not exist is an error, not a guess.
function isCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export const MAX_PARAMETERS_JSON = 4096;

/** Provider call parameters: a JSON object ('' is none); a problem is recorded otherwise. */
export function parseParameters(json: string, problems: FieldError[]): Record<string, unknown> {
  if (json === '') return {};
  if (json.length > MAX_PARAMETERS_JSON) {
    problems.push({ field: 'parameters_json', message: `must be at most ${MAX_PARAMETERS_JSON} characters` });
    return {};
  }
  try {
    const value = JSON.parse(json) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  problems.push({ field: 'parameters_json', message: 'must be a JSON object' });
  return {};
}

export function validationFailed(message: string, fields: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', message, { fields });
}
