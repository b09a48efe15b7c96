import { withAdminClient } from './admin-connection.js';
import { databaseName, quoteIdentifier } from './database-url.js';

// SQLSTATEs a concurrent CREATE DATABASE of the same name can raise: duplicate_database, and
// unique_violation on pg_database's name index when two creations race past the catalog check.
const ALREADY_EXISTS = new Set(['42P04', '23505']);

export async function databaseExists(url: string): Promise<boolean> {
  const name = databaseName(url);
  return withAdminClient(url, async (client) => {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return (result.rowCount ?? 0) > 0;
  });
}

/** Creates the URL's database unless it exists. Idempotent and safe when several callers race. */
export async function createDatabaseIfMissing(url: string): Promise<{ database: string; created: boolean }> {
  const database = databaseName(url);
  const quoted = quoteIdentifier(database);
  return withAdminClient(url, async (client) => {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if ((existing.rowCount ?? 0) > 0) return { database, created: false };
    try {
      await client.query(`CREATE DATABASE ${quoted}`);
      return { database, created: true };
    } catch (error) {
      if (ALREADY_EXISTS.has((error as { code?: string }).code ?? '')) return { database, created: false };
      throw error;
    }
  });
}

/** Drops the URL's database if it exists, closing other sessions on it (PostgreSQL 13+). */
export async function dropDatabaseIfExists(url: string): Promise<{ database: string; dropped: boolean }> {
  const database = databaseName(url);
  const quoted = quoteIdentifier(database);
  return withAdminClient(url, async (client) => {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if ((existing.rowCount ?? 0) === 0) return { database, dropped: false };
    await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    return { database, dropped: true };
  });
}
