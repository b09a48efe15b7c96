import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { deploy, migrationChecksum, status } from '../src/index.js';
import { dropAll, fixtureService, query, uniqueDatabaseUrl } from './support/sandbox.js';

const SHOP_MIGRATIONS = ['20240101000000_init', '20240102000000_touch_trigger'];

describe('deploy', () => {
  const created: string[] = [];
  afterAll(() => dropAll(created));

  test('When deploy runs on a fresh database, then it creates it, applies every migration in order and records sha256 checksums', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    const lines: string[] = [];
    try {
      const result = await deploy({ schemaPath: service.schemaPath, url, log: (line) => lines.push(line) });

      expect(result).toEqual({ createdDatabase: true, applied: SHOP_MIGRATIONS });
      expect(lines).toEqual(expect.arrayContaining(SHOP_MIGRATIONS.map((name) => `Applied ${name}`)));
      const rows = await query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        applied_steps_count: number;
      }>(
        url,
        'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY started_at',
      );
      for (const [index, name] of SHOP_MIGRATIONS.entries()) {
        const sql = await readFile(path.join(service.migrationsDir, name, 'migration.sql'));
        const sha256 = createHash('sha256').update(sql).digest('hex');
        expect(rows[index]).toEqual({
          migration_name: name,
          checksum: sha256,
          finished_at: expect.any(Date),
          applied_steps_count: 1,
        });
        expect(migrationChecksum(sql.toString('utf8'))).toBe(sha256);
      }
      // The trigger from the second migration works: its body survived in one piece.
      await query(url, "INSERT INTO products (name, updated_at) VALUES ('x', '2000-01-01')");
      await query(url, "UPDATE products SET name = 'y' WHERE name = 'x'");
      const [product] = await query<{ touched: boolean }>(
        url,
        "SELECT updated_at > '2000-01-02' AS touched FROM products WHERE name = 'y'",
      );
      expect(product?.touched).toBe(true);
    } finally {
      await service.remove();
    }
  });

  test('When deploy runs again, then nothing is applied and the history is unchanged', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    try {
      await deploy({ schemaPath: service.schemaPath, url });

      const again = await deploy({ schemaPath: service.schemaPath, url });

      expect(again).toEqual({ createdDatabase: false, applied: [] });
      expect(await query(url, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(2);
    } finally {
      await service.remove();
    }
  });

  test('When an applied migration was edited, then deploy refuses, naming it, and status reports it', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    try {
      await deploy({ schemaPath: service.schemaPath, url });
      await appendFile(
        path.join(service.migrationsDir, '20240101000000_init', 'migration.sql'),
        '\n-- an innocent comment\n',
      );

      await expect(deploy({ schemaPath: service.schemaPath, url })).rejects.toThrow(
        /Edited after being applied \(checksum mismatch\): 20240101000000_init/,
      );
      const report = await status({ schemaPath: service.schemaPath, url });
      expect(report).toMatchObject({ edited: ['20240101000000_init'], pending: [], upToDate: false });
    } finally {
      await service.remove();
    }
  });

  test('When the database holds a migration the folder lacks, then deploy refuses because the history diverged', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    try {
      await deploy({ schemaPath: service.schemaPath, url });
      await query(
        url,
        "UPDATE _prisma_migrations SET migration_name = '20240101120000_from_another_branch' WHERE migration_name = $1",
        [SHOP_MIGRATIONS[1]],
      );

      await expect(deploy({ schemaPath: service.schemaPath, url })).rejects.toThrow(
        /missing from the migrations folder \(history diverged\): 20240101120000_from_another_branch/,
      );
    } finally {
      await service.remove();
    }
  });
});
