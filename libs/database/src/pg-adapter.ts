import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

export interface DatabaseOptions {
  url: string;
  /** Connections per replica; the sum over replicas must stay under PostgreSQL's max_connections. */
  poolSize?: number;
  /** Per-statement limit, so a runaway query cannot hold a connection forever. */
  statementTimeoutMs?: number;
  applicationName: string;
}

/**
 * The driver adapter every service's generated PrismaClient runs on (Prisma 7 has no query engine
 * binary: queries go through node-postgres). Returns the adapter and its pool; the caller ends the
 * pool after `$disconnect()` on shutdown.
 */
export function createPgAdapter(options: DatabaseOptions): { adapter: PrismaPg; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    application_name: options.applicationName,
  });
  // An idle client losing its connection (database restart) must not crash the process; the pool
  // replaces it on the next checkout.
  pool.on('error', () => undefined);
  return { adapter: new PrismaPg(pool), pool };
}

/** Readiness: a round trip through the same pool the service uses. */
export function databaseReadinessCheck(pool: pg.Pool): () => Promise<void> {
  return async () => {
    await pool.query('SELECT 1');
  };
}
