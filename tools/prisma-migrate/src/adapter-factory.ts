import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { CharAsTextPool } from './char-as-text-pool.js';
import { pgConnectionString, schemaName } from './database-url.js';
import { ScriptAdapter } from './script-adapter.js';
import { connectToShadowDb } from './shadow-database.js';

export interface EngineAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  /** Ends the main pool and removes any shadow database the engine did not dispose (it failed midway). */
  close(): Promise<void>;
}

/**
 * The driver-adapter factory the wasm schema engine talks to PostgreSQL through.
 *
 * The main pool has ONE connection: the engine takes PostgreSQL's session-level advisory lock
 * (the same key as `prisma migrate`) before migrating, and only a single session guarantees the
 * lock is held by the connection that runs the migrations and released when the pool ends.
 */
export function createAdapterFactory(url: string): EngineAdapterFactory {
  const pool = new CharAsTextPool({ connectionString: pgConnectionString(url), max: 1 });
  const pg = new PrismaPg(pool, { schema: schemaName(url) });
  const shadows: SqlDriverAdapter[] = [];

  return {
    provider: pg.provider,
    adapterName: pg.adapterName,
    async connect() {
      return new ScriptAdapter(await pg.connect(), pool);
    },
    async connectToShadowDb() {
      const shadow = await connectToShadowDb(url);
      shadows.push(shadow);
      return shadow;
    },
    async close() {
      await Promise.allSettled(shadows.map((shadow) => shadow.dispose()));
      await pool.end();
    },
  };
}
