import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { dropAll, fixtureService, query, uniqueDatabaseUrl } from './support/sandbox.js';

const PACKAGE_DIR = path.resolve(__dirname, '..');
const CLI = path.join(PACKAGE_DIR, 'dist', 'cli.js');

/** Runs the built `te-migrate` the way npm's bin link would, and never rejects. */
async function teMigrate(args: string[], env: NodeJS.ProcessEnv = {}, cwd = PACKAGE_DIR) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('te-migrate (the built CLI, end to end)', () => {
  const created: string[] = [];
  beforeAll(() => {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.lib.json'], {
      cwd: PACKAGE_DIR,
    });
  });
  afterAll(() => dropAll(created));

  test('When run without a command, then it prints the usage and exits 0', async () => {
    const result = await teMigrate([]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: te-migrate <command>');
  });

  test('When given an unknown command, then it exits 2 with the usage', async () => {
    const result = await teMigrate(['migrate']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown command: migrate');
  });

  test('When a service is developed, deployed elsewhere and checked, then each step succeeds and the databases agree', async () => {
    const service = await fixtureService();
    const devUrl = uniqueDatabaseUrl(created);
    const prodUrl = uniqueDatabaseUrl(created);
    try {
      const created1 = await teMigrate(['dev', '--name', 'init'], { DATABASE_URL: devUrl }, service.dir);
      const deployed = await teMigrate(['deploy', '--schema', service.schemaPath, '--url', prodUrl]);
      const statusOk = await teMigrate(['status', '--schema', service.schemaPath], { DATABASE_URL: prodUrl });
      const checked = await teMigrate(['check', '--schema', service.schemaPath, '--url', prodUrl]);

      expect(created1).toMatchObject({ code: 0 });
      const [migration] = (await readdir(service.migrationsDir)).filter((name) => name.endsWith('_init'));
      expect(migration).toMatch(/^\d{14}_init$/);
      expect(deployed.code).toBe(0);
      expect(deployed.stdout).toContain(`Applied ${migration}`);
      expect(statusOk).toMatchObject({ code: 0 });
      expect(statusOk.stdout).toContain('Database is up to date.');
      expect(checked).toMatchObject({ code: 0 });
      const names = async (url: string) =>
        (
          await query<{ migration_name: string; checksum: string }>(
            url,
            'SELECT migration_name, checksum FROM _prisma_migrations',
          )
        ).map((row) => row);
      expect(await names(prodUrl)).toEqual(await names(devUrl));
    } finally {
      await service.remove();
    }
  });

  test('When the URL carries a password, then no output shows it', async () => {
    const service = await fixtureService('shop');
    const url = uniqueDatabaseUrl(created).replace('postgres@', 'postgres:s3cr3t-pw@');
    try {
      const broken = path.join(service.migrationsDir, '20240103000000_broken');
      await mkdir(broken);
      await writeFile(path.join(broken, 'migration.sql'), 'SELECT 1/0;\n');

      const results = [
        await teMigrate(['deploy', '--schema', service.schemaPath, '--url', url]),
        await teMigrate(['status', '--schema', service.schemaPath, '--url', url]),
        await teMigrate(['deploy', '--schema', service.schemaPath, '--url', url.replace(':5432/', ':1/')]),
        await teMigrate(['create-db', '--url', url.replace(/\/[^/]*$/, '/')]),
      ];

      expect(results.map((result) => result.code)).toEqual([1, 1, 1, 1]);
      expect(results[0]?.stderr).toContain('division by zero');
      expect(results[2]?.stderr).toContain(
        'Cannot connect to PostgreSQL (postgresql://postgres:***@127.0.0.1:1/postgres)',
      );
      expect(results[3]?.stderr).toContain('names no database: postgresql://postgres:***@127.0.0.1:5432/');
      for (const result of results) expect(result.stdout + result.stderr).not.toContain('s3cr3t-pw');
    } finally {
      await service.remove();
    }
  });
});
