import {
  DriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from '@prisma/driver-adapter-utils';
import type pg from 'pg';

/**
 * Wraps adapter-pg's adapter so that a migration script runs as ONE simple-protocol query, as the
 * native schema engine runs it. adapter-pg's `executeScript` splits on every ";", which breaks any
 * migration with a function body, a DO block or a string containing ";", and it loses the implicit
 * transaction PostgreSQL gives a multi-statement query.
 */
export class ScriptAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter['provider'];
  readonly adapterName: string;

  constructor(
    private readonly inner: SqlDriverAdapter,
    private readonly pool: pg.Pool,
    private readonly onDispose?: () => Promise<void>,
  ) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.inner.queryRaw(query);
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.inner.executeRaw(query);
  }

  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    return this.inner.startTransaction(isolationLevel);
  }

  getConnectionInfo(): ConnectionInfo {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: true };
  }

  async executeScript(script: string): Promise<void> {
    try {
      await this.pool.query(script);
    } catch (error) {
      throw asDriverError(error);
    }
  }

  /** Idempotent: the engine disposes what it opened, and the factory's close() sweeps up after failures. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      await this.inner.dispose();
      await this.onDispose?.();
    })();
    return this.disposed;
  }

  private disposed?: Promise<void>;
}

/** The engine only reads errors it understands; give it PostgreSQL's own fields. */
function asDriverError(error: unknown): Error {
  const e = error as Partial<pg.DatabaseError> & Error;
  if (typeof e?.code === 'string' && typeof e.severity === 'string') {
    return new DriverAdapterError({
      kind: 'postgres',
      code: e.code,
      severity: e.severity,
      message: e.message,
      detail: e.detail,
      column: e.column,
      hint: e.hint,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}
