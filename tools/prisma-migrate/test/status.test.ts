import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deploy, main } from '../src/index.js';
import { captureIo, dropAll, fixtureService, uniqueDatabaseUrl } from './support/sandbox.js';

describe('status', () => {
  const created: string[] = [];
  afterAll(() => dropAll(created));

  test('When the database does not exist yet, then status lists every migration as pending and exits 1', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    const out = captureIo({ DATABASE_URL: url });
    try {
      const code = await main(['status', '--schema', service.schemaPath], out.io);

      expect(code).toBe(1);
      expect(out.stdout()).toContain('does not exist');
      expect(out.stdout()).toContain('pending  20240101000000_init');
      expect(out.stdout()).toContain('pending  20240102000000_touch_trigger');
    } finally {
      await service.remove();
    }
  });

  test('When one migration is pending, then status lists applied and pending and exits 1; after deploy it exits 0', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    try {
      await deploy({ schemaPath: service.schemaPath, url });
      const extra = path.join(service.migrationsDir, '20240103000000_add_sku');
      await mkdir(extra);
      await writeFile(path.join(extra, 'migration.sql'), 'ALTER TABLE "products" ADD COLUMN "sku" TEXT;\n');

      const pending = captureIo();
      const pendingCode = await main(['status', '--schema', service.schemaPath, '--url', url], pending.io);
      await deploy({ schemaPath: service.schemaPath, url });
      const upToDate = captureIo();
      const upToDateCode = await main(['status', '--schema', service.schemaPath, '--url', url], upToDate.io);

      expect(pendingCode).toBe(1);
      expect(pending.stdout()).toContain('applied  20240102000000_touch_trigger');
      expect(pending.stdout()).toContain('pending  20240103000000_add_sku');
      expect(pending.stdout()).toContain('1 migration(s) pending');
      expect(upToDateCode).toBe(0);
      expect(upToDate.stdout()).toContain('applied  20240103000000_add_sku');
      expect(upToDate.stdout()).toContain('Database is up to date.');
    } finally {
      await service.remove();
    }
  });

  test('When a migration fails, then deploy reports the database error and the migration and status shows the failed migration', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created);
    try {
      const broken = path.join(service.migrationsDir, '20240103000000_broken');
      await mkdir(broken);
      await writeFile(
        path.join(broken, 'migration.sql'),
        'ALTER TABLE "no_such_table" ADD COLUMN "x" TEXT;\n',
      );

      const deployed = captureIo();
      const deployCode = await main(['deploy', '--schema', service.schemaPath, '--url', url], deployed.io);
      const report = captureIo();
      const statusCode = await main(['status', '--schema', service.schemaPath, '--url', url], report.io);

      expect(deployCode).toBe(1);
      expect(deployed.stderr()).toContain('no_such_table');
      expect(deployed.stderr()).toContain('while applying migration 20240103000000_broken');
      expect(statusCode).toBe(1);
      expect(report.stdout()).toContain('Failed and not resolved: 20240103000000_broken');
    } finally {
      await service.remove();
    }
  });
});
