import { createDb, databaseExists, dropDatabaseIfExists, withDatabase } from '../src/index.js';
import { ADMIN_URL, dropAll, query, uniqueDatabaseUrl } from './support/sandbox.js';

describe('create-db', () => {
  const created: string[] = [];
  afterAll(() => dropAll(created));

  test('When create-db runs twice, then the first call creates the database and the second leaves it be', async () => {
    const url = uniqueDatabaseUrl(created);

    const first = await createDb({ url });
    const second = await createDb({ url });

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(await databaseExists(url)).toBe(true);
  });

  test('When several callers create the same database at once, then exactly one creates it and none fails', async () => {
    const url = uniqueDatabaseUrl(created);

    const results = await Promise.all(Array.from({ length: 6 }, () => createDb({ url })));

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await databaseExists(url)).toBe(true);
  });

  test('When the database name needs quoting, then it is created under exactly that name', async () => {
    const name = `te_migrate_t"Odd; name ${Date.now().toString(36)}`;
    const url = withDatabase(ADMIN_URL, name);
    created.push(url);

    await createDb({ url });

    const rows = await query<{ datname: string }>(
      ADMIN_URL,
      'SELECT datname FROM pg_database WHERE datname = $1',
      [name],
    );
    expect(rows).toEqual([{ datname: name }]);
    expect(await dropDatabaseIfExists(url)).toEqual({ database: name, dropped: true });
  });
});
