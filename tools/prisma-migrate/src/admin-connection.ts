import pg from 'pg';
import { maskUrl, pgConnectionString, withDatabase } from './database-url.js';
import { MigrateError } from './errors.js';

/** Server-level statements (CREATE/DROP DATABASE) run from the `postgres` maintenance database. */
export const MAINTENANCE_DATABASE = 'postgres';

/** Runs `fn` with a plain client on the maintenance database of the URL's server, then closes it. */
export async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const adminUrl = withDatabase(url, MAINTENANCE_DATABASE);
  const client = new pg.Client({ connectionString: pgConnectionString(adminUrl) });
  try {
    await client.connect();
  } catch (error) {
    throw new MigrateError(
      `Cannot connect to PostgreSQL (${maskUrl(adminUrl)}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
