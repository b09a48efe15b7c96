import { applyPendingMigrations } from '../apply-migrations.js';
import { silent, type DatabaseCommandOptions } from '../command-options.js';
import { readMigrationsList } from '../migrations-folder.js';
import { openSchemaEngine } from '../schema-engine.js';
import { migrationsDirFor, readSchemaFile } from '../schema-file.js';
import { createDb } from './create-db.command.js';

export interface DeployResult {
  createdDatabase: boolean;
  /** Migrations applied by this run, in order. */
  applied: string[];
}

/**
 * `te-migrate deploy`: creates the database if missing, then applies the pending migrations; fails
 * without applying anything when a migration was edited after being applied, failed, or when the
 * database's history diverged from the folder.
 */
export async function deploy(options: DatabaseCommandOptions): Promise<DeployResult> {
  const log = options.log ?? silent;
  const schema = await readSchemaFile(options.schemaPath);
  const { created } = await createDb({ url: options.url, log });
  const dir = migrationsDirFor(schema.path);
  const list = await readMigrationsList(dir);
  if (list.migrationDirectories.length === 0) {
    log(`No migrations in ${dir}.`);
    return { createdDatabase: created, applied: [] };
  }
  const session = await openSchemaEngine({ url: options.url, schema });
  try {
    const applied = await applyPendingMigrations(session, list, log);
    log(applied.length === 0 ? 'No pending migrations.' : `${applied.length} migration(s) applied.`);
    return { createdDatabase: created, applied };
  } finally {
    await session.close();
  }
}
