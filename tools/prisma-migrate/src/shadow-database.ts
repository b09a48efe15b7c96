import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import { withAdminClient } from './admin-connection.js';
import { CharAsTextPool } from './char-as-text-pool.js';
import { pgConnectionString, quoteIdentifier, schemaName, withDatabase } from './database-url.js';
import { ScriptAdapter } from './script-adapter.js';

/** Shadow databases carry this prefix so a leftover one (killed process) is recognisable. */
export const SHADOW_DATABASE_PREFIX = 'te_migrate_shadow_';

export function shadowDatabaseName(): string {
  return `${SHADOW_DATABASE_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a throwaway database on the server of `url` and returns an adapter over it whose dispose
 * removes it: dispose the adapter, end its pool, then DROP DATABASE … WITH (FORCE).
 *
 * adapter-pg's own connectToShadowDb cannot be used: built from a connection string it connects to the
 * main database (node-postgres lets the connection string win over `database`), and it drops the
 * shadow database while its pool still holds connections.
 */
export async function connectToShadowDb(url: string): Promise<SqlDriverAdapter> {
  const name = shadowDatabaseName();
  const shadowUrl = withDatabase(url, name);
  await withAdminClient(url, (client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  const pool = new CharAsTextPool({ connectionString: pgConnectionString(shadowUrl), max: 1 });
  // DROP … WITH (FORCE) below terminates any connection the pool still holds (one still connecting
  // when the pool ended, on a loaded machine): that error is the intended end, not the caller's failure.
  pool.on('error', () => undefined);
  const drop = async () => {
    await pool.end();
    await withAdminClient(url, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    );
  };
  try {
    const inner = await new PrismaPg(pool, { schema: schemaName(url) }).connect();
    return new ScriptAdapter(inner, pool, drop);
  } catch (error) {
    await drop();
    throw error;
  }
}
