import { silent } from '../command-options.js';
import { createDatabaseIfMissing } from '../database-admin.js';

/** `te-migrate create-db`: creates the URL's database if it does not exist. */
export async function createDb(options: {
  url: string;
  log?: (line: string) => void;
}): Promise<{ database: string; created: boolean }> {
  const log = options.log ?? silent;
  const result = await createDatabaseIfMissing(options.url);
  log(
    result.created
      ? `Created database "${result.database}".`
      : `Database "${result.database}" already exists.`,
  );
  return result;
}
