import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, dropTestDatabase, runId, testDatabaseAdminUrl } from '../src/index.js';

const SCHEMA = path.join(__dirname, 'fixtures', 'prisma', 'schema.prisma');

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const exists = async (name: string) =>
  (await query(testDatabaseAdminUrl(), 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;

describe('createTestDatabase', () => {
  test('When a test database is created, then it is named for the run and holds the migrated schema', async () => {
    const db = await createTestDatabase({ schemaPath: SCHEMA, name: 'te_notes' });
    try {
      expect(db.name).toMatch(new RegExp(`^te_notes_t${runId()}_[0-9a-f]{4}$`));
      expect(db.url.endsWith(`/${db.name}`)).toBe(true);
      await query(db.url, "INSERT INTO notes (body) VALUES ('hello')");
      expect(await query(db.url, 'SELECT body FROM notes')).toEqual([{ body: 'hello' }]);
      const migrations = await query<{ migration_name: string }>(
        db.url,
        'SELECT migration_name FROM _prisma_migrations',
      );
      expect(migrations).toEqual([{ migration_name: '20240101000000_init' }]);
    } finally {
      await db.drop();
    }
    expect(await exists(db.name)).toBe(false);
  });

  test('When two databases are created with the same name, then they are distinct', async () => {
    const [a, b] = await Promise.all([
      createTestDatabase({ schemaPath: SCHEMA, name: 'te_notes' }),
      createTestDatabase({ schemaPath: SCHEMA, name: 'te_notes' }),
    ]);
    try {
      expect(a.name).not.toBe(b.name);
      await query(a.url, "INSERT INTO notes (body) VALUES ('only in a')");
      expect(await query(b.url, 'SELECT 1 FROM notes')).toEqual([]);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  test('When a connection is still open, then dropTestDatabase still drops the database, and a second drop is a no-op', async () => {
    const db = await createTestDatabase({ schemaPath: SCHEMA, name: 'te_notes' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    client.on('error', () => undefined); // the drop terminates this session

    await dropTestDatabase(db.url);
    await db.drop();

    expect(await exists(db.name)).toBe(false);
    await client.end().catch(() => undefined);
  });

  test('When a migration fails, then creation fails clearly and leaves no database behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'te-testing-'));
    await cp(path.join(__dirname, 'fixtures', 'prisma'), dir, { recursive: true });
    await mkdir(path.join(dir, 'migrations', '20240102000000_broken'));
    await writeFile(
      path.join(dir, 'migrations', '20240102000000_broken', 'migration.sql'),
      'ALTER TABLE "nope" ADD COLUMN "x" TEXT;',
    );
    const leftovers = () =>
      query(testDatabaseAdminUrl(), 'SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `te_broken_t${runId()}_%`,
      ]);
    try {
      await expect(
        createTestDatabase({ schemaPath: path.join(dir, 'schema.prisma'), name: 'te_broken' }),
      ).rejects.toThrow(
        /createTestDatabase: migrating postgresql:\/\/\S+\/te_broken_t\w+ from .* failed: .*nope/s,
      );

      expect(await leftovers()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('When the name is not a plain lower-case identifier, then it is refused', async () => {
    await expect(createTestDatabase({ schemaPath: SCHEMA, name: 'Bad-Name' })).rejects.toThrow(
      'name must match',
    );
  });
});
