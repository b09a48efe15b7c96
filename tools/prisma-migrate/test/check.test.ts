import { check, dev, main } from '../src/index.js';
import {
  ADMIN_URL,
  captureIo,
  dropAll,
  editFile,
  fixtureService,
  query,
  uniqueDatabaseUrl,
} from './support/sandbox.js';

describe('check (drift between schema.prisma and the migrations)', () => {
  const created: string[] = [];
  afterAll(() => dropAll(created));

  test("When the migrations match the schema, then check passes without needing the URL's database", async () => {
    const service = await fixtureService();
    const devUrl = uniqueDatabaseUrl(created);
    const absentUrl = uniqueDatabaseUrl(created);
    try {
      await dev({ schemaPath: service.schemaPath, url: devUrl, name: 'init' });
      const out = captureIo();

      const code = await main(['check', '--schema', service.schemaPath, '--url', absentUrl], out.io);

      expect(code).toBe(0);
      expect(out.stdout()).toContain('In sync');
      expect(
        await query(ADMIN_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [absentUrl.split('/').pop()]),
      ).toHaveLength(0);
    } finally {
      await service.remove();
    }
  });

  test('When the schema gains a column without a migration, then check fails and prints the SQL needed', async () => {
    const service = await fixtureService();
    const devUrl = uniqueDatabaseUrl(created);
    try {
      await dev({ schemaPath: service.schemaPath, url: devUrl, name: 'init' });
      await editFile(
        service.schemaPath,
        '  email String @unique\n',
        '  email String @unique\n  bio   String?\n',
      );
      const out = captureIo();

      const code = await main(['check', '--schema', service.schemaPath, '--url', ADMIN_URL], out.io);
      const result = await check({ schemaPath: service.schemaPath, url: ADMIN_URL });

      expect(code).toBe(1);
      expect(out.stdout()).toContain('Drift');
      expect(out.stdout()).toContain('ALTER TABLE "authors" ADD COLUMN     "bio" TEXT;');
      expect(result).toEqual({
        inSync: false,
        sql: '-- AlterTable\nALTER TABLE "authors" ADD COLUMN     "bio" TEXT;',
      });
    } finally {
      await service.remove();
    }
  });

  test('When there are no migrations at all, then check reports the whole schema as missing', async () => {
    const service = await fixtureService();
    try {
      const result = await check({ schemaPath: service.schemaPath, url: ADMIN_URL });

      expect(result.inSync).toBe(false);
      expect(result.sql).toContain('CREATE TABLE "authors"');
    } finally {
      await service.remove();
    }
  });
});
