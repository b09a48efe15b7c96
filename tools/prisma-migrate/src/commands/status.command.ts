import { silent, type DatabaseCommandOptions } from '../command-options.js';
import { databaseExists } from '../database-admin.js';
import { databaseName } from '../database-url.js';
import {
  historyProblems,
  readMigrationStatus,
  statusOfMissingDatabase,
  type MigrationStatus,
} from '../migration-history.js';
import { migrationNames, readMigrationsList } from '../migrations-folder.js';
import { openSchemaEngine } from '../schema-engine.js';
import { migrationsDirFor, readSchemaFile } from '../schema-file.js';

/** `te-migrate status`: applied and pending migrations; the CLI exits 1 unless `upToDate`. */
export async function status(options: DatabaseCommandOptions): Promise<MigrationStatus> {
  const log = options.log ?? silent;
  const schema = await readSchemaFile(options.schemaPath);
  const list = await readMigrationsList(migrationsDirFor(schema.path));
  let result: MigrationStatus;
  if (!(await databaseExists(options.url))) {
    log(`Database "${databaseName(options.url)}" does not exist.`);
    result = statusOfMissingDatabase(migrationNames(list));
  } else {
    const session = await openSchemaEngine({ url: options.url, schema });
    try {
      result = await readMigrationStatus(session, list);
    } finally {
      await session.close();
    }
  }
  report(result, log);
  return result;
}

function report(result: MigrationStatus, log: (line: string) => void): void {
  for (const name of result.applied) log(`applied  ${name}`);
  for (const name of result.pending) log(`pending  ${name}`);
  for (const problem of historyProblems(result)) log(`PROBLEM: ${problem}`);
  if (result.upToDate) log('Database is up to date.');
  else if (result.pending.length > 0)
    log(`${result.pending.length} migration(s) pending: run te-migrate deploy.`);
}
