import pg from 'pg';

/**
 * A small pool for a test's own queries on a service's database. Its idle connections may be ended by
 * the server while the test runs (a fault test, the run's DROP DATABASE … WITH (FORCE) at clean-up);
 * pg reports that as an `error` event on the pool, which must not crash the test process. Queries in
 * flight still fail loudly.
 */
export function openTestPool(connectionString: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: 'test' });
  pool.on('error', () => undefined);
  return pool;
}
