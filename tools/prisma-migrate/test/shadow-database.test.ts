import { connectToShadowDb, SHADOW_DATABASE_PREFIX } from '../src/shadow-database.js';
import { ADMIN_URL, query } from './support/sandbox.js';

describe('shadow database', () => {
  test('When the engine disposes a shadow database, then it is dropped even with its pool just used', async () => {
    const shadow = await connectToShadowDb(ADMIN_URL);
    const result = await shadow.queryRaw({
      sql: 'SELECT current_database() AS name',
      args: [],
      argTypes: [],
    });
    const name = String(result.rows[0]?.[0]);

    await shadow.executeScript('CREATE TABLE t (id int); INSERT INTO t VALUES (1);');
    await shadow.dispose();

    expect(name.startsWith(SHADOW_DATABASE_PREFIX)).toBe(true);
    expect(await query(ADMIN_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).toHaveLength(0);
  });

  test('When the engine introspects catalog columns of type "char", then the adapter reads them as text', async () => {
    const shadow = await connectToShadowDb(ADMIN_URL);
    try {
      const result = await shadow.queryRaw({
        sql: "SELECT relkind FROM pg_class WHERE relname = 'pg_class'",
        args: [],
        argTypes: [],
      });

      expect(result.rows).toEqual([['r']]);
    } finally {
      await shadow.dispose();
    }
  });
});
