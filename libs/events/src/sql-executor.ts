/**
 * The slice of a Prisma client this library needs, declared structurally so that any generated Prisma
 * client (and the interactive-transaction client Prisma passes to `$transaction`) satisfies it without
 * this library depending on a generated client. SQL uses PostgreSQL `$n` placeholders.
 */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** Prisma's interactive-transaction options (its default timeout is 5 s; the relay asks for more). */
export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
}

/** Something that runs `fn` in one database transaction: commit when it resolves, roll back when it throws. */
export interface TransactionRunner<Tx extends SqlExecutor = SqlExecutor> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: TransactionOptions): Promise<R>;
}

export type TransactionalSqlExecutor<Tx extends SqlExecutor = SqlExecutor> = SqlExecutor &
  TransactionRunner<Tx>;
