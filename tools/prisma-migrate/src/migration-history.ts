import type {
  DiagnoseMigrationHistoryOutput,
  MigrationList,
} from '@prisma/schema-engine-wasm/schema_engine_bg';
import { NO_FILTER } from './command-options.js';
import { MigrateError } from './errors.js';
import { migrationNames } from './migrations-folder.js';
import type { EngineSession } from './schema-engine.js';

/** Where a database stands against the migrations folder. */
export interface MigrationStatus {
  databaseExists: boolean;
  /** In the folder and applied. */
  applied: string[];
  /** In the folder, not applied yet. */
  pending: string[];
  /** Applied, but migration.sql changed since (checksum mismatch). */
  edited: string[];
  /** Started and failed; the database needs attention before anything else is applied. */
  failed: string[];
  /** Applied to the database but absent from the folder (another branch, a deleted folder). */
  notInFolder: string[];
  /** Nothing pending and nothing wrong. */
  upToDate: boolean;
}

/** Asks the engine, without a shadow database, how the database's history relates to the folder. */
export async function readMigrationStatus(
  session: EngineSession,
  list: MigrationList,
): Promise<MigrationStatus> {
  const diagnosis = await session.run((engine) =>
    engine.diagnoseMigrationHistory({
      migrationsList: list,
      optInToShadowDatabase: false,
      filters: NO_FILTER,
    }),
  );
  return statusFromDiagnosis(migrationNames(list), diagnosis);
}

export function statusFromDiagnosis(
  local: string[],
  diagnosis: DiagnoseMigrationHistoryOutput,
): MigrationStatus {
  const history = diagnosis.history;
  const pending = history && 'unappliedMigrationNames' in history ? history.unappliedMigrationNames : [];
  const notInFolder =
    history && 'unpersistedMigrationNames' in history ? history.unpersistedMigrationNames : [];
  const failed = diagnosis.failedMigrationNames;
  const applied = local.filter((name) => !pending.includes(name) && !failed.includes(name));
  const edited = diagnosis.editedMigrationNames;
  const upToDate = pending.length + edited.length + failed.length + notInFolder.length === 0;
  return { databaseExists: true, applied, pending, edited, failed, notInFolder, upToDate };
}

/** A database that was never migrated: everything in the folder is pending. */
export function statusOfMissingDatabase(local: string[]): MigrationStatus {
  return {
    databaseExists: false,
    applied: [],
    pending: local,
    edited: [],
    failed: [],
    notInFolder: [],
    upToDate: local.length === 0,
  };
}

/** The problems that forbid applying anything, one sentence each. */
export function historyProblems(status: MigrationStatus): string[] {
  const problems: string[] = [];
  if (status.edited.length > 0) {
    problems.push(
      `Edited after being applied (checksum mismatch): ${status.edited.join(', ')}. Restore the applied migration.sql; put changes in a new migration.`,
    );
  }
  if (status.failed.length > 0) {
    problems.push(
      `Failed and not resolved: ${status.failed.join(', ')}. Fix the database by hand, then mark the migration rolled back or applied.`,
    );
  }
  if (status.notInFolder.length > 0) {
    problems.push(
      `Applied to the database but missing from the migrations folder (history diverged): ${status.notInFolder.join(', ')}.`,
    );
  }
  return problems;
}

export function assertHistoryConsistent(status: MigrationStatus): void {
  const problems = historyProblems(status);
  if (problems.length > 0)
    throw new MigrateError(`The migration history cannot be applied:\n- ${problems.join('\n- ')}`);
}
