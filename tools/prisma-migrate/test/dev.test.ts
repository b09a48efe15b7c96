import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { dev, normalizeMigrationName } from '../src/index.js';
import { dropAll, editFile, fixtureService, query, uniqueDatabaseUrl } from './support/sandbox.js';

describe('dev', () => {
  const created: string[] = [];
  afterAll(() => dropAll(created));

  test('When dev runs on a schema without migrations, then it writes the migration and applies it to the dev database', async () => {
    const service = await fixtureService();
    const url = uniqueDatabaseUrl(created);
    try {
      const result = await dev({
        schemaPath: service.schemaPath,
        url,
        name: 'Create Blog',
        now: new Date('2024-03-05T06:07:08Z'),
      });

      expect(result.migration).toBe('20240305060708_create_blog');
      expect(result.applied).toEqual(['20240305060708_create_blog']);
      const sql = await readFile(
        path.join(service.migrationsDir, '20240305060708_create_blog', 'migration.sql'),
        'utf8',
      );
      expect(sql).toBe(result.sql);
      expect(sql).toContain('CREATE TYPE "PostState" AS ENUM');
      expect(sql).toContain('CREATE TABLE "posts"');
      expect(sql).toContain('ADD CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id")');
      expect(await readFile(path.join(service.migrationsDir, 'migration_lock.toml'), 'utf8')).toContain(
        'provider = "postgresql"',
      );
      const tables = await query<{ tablename: string }>(
        url,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
      );
      expect(tables.map((row) => row.tablename)).toEqual(['_prisma_migrations', 'authors', 'posts']);
    } finally {
      await service.remove();
    }
  });

  test('When dev runs again without a schema change, then it writes nothing and says so', async () => {
    const service = await fixtureService();
    const url = uniqueDatabaseUrl(created);
    try {
      await dev({ schemaPath: service.schemaPath, url, name: 'init' });
      const before = await readdir(service.migrationsDir);
      const lines: string[] = [];

      const result = await dev({
        schemaPath: service.schemaPath,
        url,
        name: 'nothing',
        log: (line) => lines.push(line),
      });

      expect(result).toEqual({ migration: null, sql: null, applied: [] });
      expect(await readdir(service.migrationsDir)).toEqual(before);
      expect(lines.join('\n')).toContain('No schema changes');
    } finally {
      await service.remove();
    }
  });

  test('When the schema gains a column, then dev writes a second migration with just that change', async () => {
    const service = await fixtureService();
    const url = uniqueDatabaseUrl(created);
    try {
      await dev({ schemaPath: service.schemaPath, url, name: 'init', now: new Date('2024-01-01T00:00:00Z') });
      await editFile(service.schemaPath, '  title     String\n', '  title     String\n  summary   String?\n');

      const result = await dev({
        schemaPath: service.schemaPath,
        url,
        name: 'add post summary',
        now: new Date('2024-01-02T00:00:00Z'),
      });

      expect(result.migration).toBe('20240102000000_add_post_summary');
      expect(result.sql?.trim()).toBe('-- AlterTable\nALTER TABLE "posts" ADD COLUMN     "summary" TEXT;');
      const columns = await query(
        url,
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'posts' AND column_name = 'summary'",
      );
      expect(columns).toHaveLength(1);
    } finally {
      await service.remove();
    }
  });

  test('When the dev database was changed by hand, then dev refuses instead of hiding the change', async () => {
    const service = await fixtureService();
    const url = uniqueDatabaseUrl(created);
    try {
      await dev({ schemaPath: service.schemaPath, url, name: 'init' });
      await query(url, 'ALTER TABLE "authors" ADD COLUMN "nickname" TEXT');

      await expect(dev({ schemaPath: service.schemaPath, url, name: 'next' })).rejects.toThrow(
        'does not match its migrations',
      );
      expect((await readdir(service.migrationsDir)).filter((name) => name.endsWith('_next'))).toEqual([]);
    } finally {
      await service.remove();
    }
  });

  test('When the name is missing, then dev refuses before touching anything', async () => {
    await expect(
      dev({ schemaPath: 'unused', url: 'postgresql://127.0.0.1/unused', name: ' ' }),
    ).rejects.toThrow('--name');
    expect(normalizeMigrationName(' ')).toBe('');
  });
});
