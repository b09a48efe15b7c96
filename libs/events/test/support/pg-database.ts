import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool, type PoolClient } from 'pg';
import type { SqlExecutor, TransactionalSqlExecutor, TransactionOptions } from '../../src/index.js';

const PG_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The structural SqlExecutor over one pg connection (inside a transaction). */
function executorFor(client: Pool | PoolClient): SqlExecutor {
  return {
    async $executeRawUnsafe(query: string, ...values: unknown[]) {
      return (await client.query(query, values)).rowCount ?? 0;
    },
    async $queryRawUnsafe<T>(query: string, ...values: unknown[]) {
      return (await client.query(query, values)).rows as T;
    },
  };
}

/**
 * A pg-backed stand-in for a Prisma client: the same structural interface (raw SQL + interactive
 * transactions), enough for the library's tests. Services exercise the real Prisma client.
 */
export class PgExecutor implements TransactionalSqlExecutor {
  private readonly direct: SqlExecutor;
  constructor(readonly pool: Pool) {
    this.direct = executorFor(pool);
  }

  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return this.direct.$executeRawUnsafe(query, ...values);
  }

  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return this.direct.$queryRawUnsafe<T>(query, ...values);
  }

  async $transaction<R>(fn: (tx: SqlExecutor) => Promise<R>, _options?: TransactionOptions): Promise<R> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(executorFor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

/** A throwaway database `te_events_t<runid>` with the outbox tables (prisma/outbox.sql). */
export class TestDatabase {
  readonly name: string;
  readonly pool: Pool;

  private constructor(runId: string) {
    this.name = `te_events_t${runId}`;
    const url = new URL(PG_URL);
    url.pathname = `/${this.name}`;
    this.pool = new Pool({ connectionString: url.toString(), max: 10 });
    // drop() ends connections with DROP … WITH (FORCE); an idle one reports that as an error event.
    this.pool.on('error', () => undefined);
  }

  static async create(runId: string): Promise<TestDatabase> {
    const db = new TestDatabase(runId);
    await admin((client) => client.query(`CREATE DATABASE "${db.name}"`));
    await db.pool.query(readFileSync(join(__dirname, '../../prisma/outbox.sql'), 'utf8'));
    return db;
  }

  executor(): PgExecutor {
    return new PgExecutor(this.pool);
  }

  async drop(): Promise<void> {
    await this.pool.end();
    await admin((client) => client.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`));
  }
}

async function admin(fn: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}
