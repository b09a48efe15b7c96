import { MAINTENANCE_DATABASE } from '../admin-connection.js';
import { silent } from '../command-options.js';
import { withDatabase } from '../database-url.js';
import { readMigrationsList } from '../migrations-folder.js';
import { openSchemaEngine } from '../schema-engine.js';
import { diffMigrationsToSchema } from '../schema-diff.js';
import { migrationsDirFor, readSchemaFile } from '../schema-file.js';

export interface CheckResult {
  inSync: boolean;
  /** The SQL a new migration would need; empty when in sync. */
  sql: string;
}

/**
 * `te-migrate check`, the CI drift check: replays the migrations in a throwaway shadow database and
 * diffs the result against schema.prisma. Needs a PostgreSQL server (the URL's), not a database:
 * the engine's main connection points at the maintenance database and is never written to.
 */
export async function check(options: {
  schemaPath: string;
  url: string;
  log?: (line: string) => void;
}): Promise<CheckResult> {
  const log = options.log ?? silent;
  const schema = await readSchemaFile(options.schemaPath);
  const list = await readMigrationsList(migrationsDirFor(schema.path));
  const session = await openSchemaEngine({ url: withDatabase(options.url, MAINTENANCE_DATABASE), schema });
  try {
    const sql = (await diffMigrationsToSchema(session, list, schema))?.trim() ?? '';
    if (!sql) {
      log(`In sync: schema.prisma matches the ${list.migrationDirectories.length} migration(s).`);
      return { inSync: true, sql };
    }
    log('Drift: schema.prisma and the migrations folder disagree. A new migration would need:\n');
    log(sql);
    log('\nCreate it with: te-migrate dev --name <change>');
    return { inSync: false, sql };
  } finally {
    await session.close();
  }
}
