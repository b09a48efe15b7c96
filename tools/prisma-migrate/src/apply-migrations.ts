import type { MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { NO_FILTER } from './command-options.js';
import { assertHistoryConsistent, readMigrationStatus } from './migration-history.js';
import type { EngineSession } from './schema-engine.js';

/**
 * Refuses an inconsistent history (edited, failed or diverged migrations), then has the engine apply
 * what is pending. The engine writes the standard `_prisma_migrations` rows (sha256 checksum of each
 * migration.sql), so `prisma migrate deploy` elsewhere agrees with the result.
 */
export async function applyPendingMigrations(
  session: EngineSession,
  list: MigrationList,
  log: (line: string) => void,
): Promise<string[]> {
  if (list.migrationDirectories.length === 0) return [];
  assertHistoryConsistent(await readMigrationStatus(session, list));
  const { appliedMigrationNames } = await session.run((engine) =>
    engine.applyMigrations({ migrationsList: list, filters: NO_FILTER }),
  );
  for (const name of appliedMigrationNames) log(`Applied ${name}`);
  return appliedMigrationNames;
}
