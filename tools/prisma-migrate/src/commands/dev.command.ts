import { applyPendingMigrations } from '../apply-migrations.js';
import { NO_FILTER, silent, type DatabaseCommandOptions } from '../command-options.js';
import { MigrateError } from '../errors.js';
import { migrationFolderName } from '../migration-name.js';
import { asDiffSource, readMigrationsList, writeMigration } from '../migrations-folder.js';
import { openSchemaEngine, type EngineSession } from '../schema-engine.js';
import { diffMigrationsToSchema } from '../schema-diff.js';
import { migrationsDirFor, readSchemaFile } from '../schema-file.js';
import { createDb } from './create-db.command.js';

export interface DevResult {
  /** The folder name of the new migration, or null when the schema matched the migrations. */
  migration: string | null;
  sql: string | null;
  /** Migrations applied to the dev database by this run (pending ones, then the new one). */
  applied: string[];
}

/**
 * `te-migrate dev --name <name>`: brings the dev database up to date, writes a migration for what
 * schema.prisma adds to the migrations, and applies it. Writes nothing when there is no difference.
 *
 * The engine's createMigration cannot be used: in the wasm build it does not reach the adapter's
 * shadow database for PostgreSQL ("must be provided through an external factory"). The migration is
 * the engine's diff from the migrations to the schema, the same SQL rendering createMigration uses.
 */
export async function dev(
  options: DatabaseCommandOptions & { name: string; now?: Date },
): Promise<DevResult> {
  const log = options.log ?? silent;
  if (!options.name?.trim()) throw new MigrateError('dev needs a migration name: --name <name>');
  const schema = await readSchemaFile(options.schemaPath);
  const dir = migrationsDirFor(schema.path);
  await createDb({ url: options.url, log });
  const session = await openSchemaEngine({ url: options.url, schema });
  try {
    const applied = await applyPendingMigrations(session, await readMigrationsList(dir), log);
    await assertNoDrift(session, dir);
    const sql = await diffMigrationsToSchema(session, await readMigrationsList(dir), schema);
    if (sql === null) {
      log('No schema changes: schema.prisma matches the migrations. Nothing written.');
      return { migration: null, sql: null, applied };
    }
    const migration = migrationFolderName(options.name, options.now ?? new Date());
    const folder = await writeMigration(dir, migration, sql);
    log(`Created ${folder}/migration.sql`);
    applied.push(...(await applyPendingMigrations(session, await readMigrationsList(dir), log)));
    return { migration, sql, applied };
  } finally {
    await session.close();
  }
}

/** A dev database changed outside the migrations (db push, hand edits) would hide schema changes. */
async function assertNoDrift(session: EngineSession, dir: string): Promise<void> {
  const list = asDiffSource(await readMigrationsList(dir));
  const { action } = await session.run((engine) =>
    engine.devDiagnostic({ migrationsList: list, filters: NO_FILTER }),
  );
  if (action.tag === 'reset') {
    throw new MigrateError(
      `The dev database does not match its migrations: ${action.reason}\nDrop it (it is a dev database) and run dev again.`,
    );
  }
}
