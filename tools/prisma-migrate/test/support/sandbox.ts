import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dropDatabaseIfExists, withDatabase } from '../../src/index.js';

/** The machine's PostgreSQL (trust auth); TEST_DATABASE_ADMIN_URL points elsewhere. */
export const ADMIN_URL =
  process.env['TEST_DATABASE_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A database URL no other test uses: te_migrate_t<random>. Dropped by `dropAll()`. */
export function uniqueDatabaseUrl(created: string[]): string {
  const url = withDatabase(ADMIN_URL, `te_migrate_t${randomBytes(5).toString('hex')}`);
  created.push(url);
  return url;
}

export async function dropAll(created: string[]): Promise<void> {
  await Promise.all(created.splice(0).map((url) => dropDatabaseIfExists(url)));
}

/** A copy of a fixture service (prisma/schema.prisma, no migrations) in a temporary folder. */
export async function fixtureService(
  fixture = 'blog',
): Promise<{ dir: string; schemaPath: string; migrationsDir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'te-migrate-'));
  await cp(path.join(__dirname, '..', 'fixtures', fixture), path.join(dir, 'prisma'), { recursive: true });
  return {
    dir,
    schemaPath: path.join(dir, 'prisma', 'schema.prisma'),
    migrationsDir: path.join(dir, 'prisma', 'migrations'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Edits a file in place with a string replacement that must match. */
export async function editFile(file: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`editFile: nothing matched ${String(from)} in ${file}`);
  await writeFile(file, next, 'utf8');
}

export async function query<T extends pg.QueryResultRow>(
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

/** Captures what the CLI's `main()` prints. */
export function captureIo(env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env, cwd },
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}
