import pg from 'pg';

// OIDs from pg_type: the one-byte internal type "char" (used by the catalogs the engine introspects,
// e.g. pg_class.relkind) and text.
const CHAR_OID = 18;
const TEXT_OID = 25;

type FieldsCarrier = { fields?: Array<{ dataTypeID: number }> };

/** Rewrites `"char"` columns of a result to text, in place; the values are already strings. */
export function charFieldsAsText<T>(result: T): T {
  for (const field of (result as FieldsCarrier).fields ?? []) {
    if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  }
  return result;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}

/**
 * A pg.Pool for @prisma/adapter-pg when it serves the schema engine. adapter-pg has no column type
 * for `"char"`, so every introspection ("Column type 'char' could not be deserialized") would fail.
 * The adapter queries through `pool.query()` (promise form), and through checked-out clients inside
 * transactions, so both paths are covered.
 */
export class CharAsTextPool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super(config);
    this.on('connect', (client) => patchClient(client));
  }

  // The overloads of pg's query() cannot be restated one by one; the wrapper only post-processes
  // the promise form and passes every other form through untouched.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const result: unknown = (super.query as (...a: unknown[]) => unknown)(...args);
    return isPromise(result) ? result.then(charFieldsAsText) : result;
  }
}

function patchClient(client: pg.PoolClient): void {
  const original = client.query.bind(client) as (...a: unknown[]) => unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (client as { query: (...a: any[]) => any }).query = (...args: unknown[]) => {
    const result = original(...args);
    return isPromise(result) ? result.then(charFieldsAsText) : result;
  };
}
