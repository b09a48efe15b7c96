import { randomBytes } from 'node:crypto';
import { deploy, dropDatabaseIfExists, maskUrl, withDatabase } from '@te/prisma-migrate';
import { runId } from './run-id.js';

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const NAME = /^[a-z][a-z0-9_]*$/;
// PostgreSQL's identifier limit (63 bytes) minus "_t<runid>_<4 hex>" with the longest run id.
const MAX_NAME_LENGTH = 63 - 23;

/** The server test databases live on: `TEST_DATABASE_ADMIN_URL` (a superuser or CREATEDB role). */
export function testDatabaseAdminUrl(): string {
  return process.env['TEST_DATABASE_ADMIN_URL'] || DEFAULT_ADMIN_URL;
}

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string;
  /** Its name: `<name>_t<runid>_<random>`. */
  name: string;
  /** Drops it (closing any connection still open). Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Creates `<name>_t<runid>_<random>` and applies the service's migrations to it with the same code as
 * `te-migrate deploy`, so tests run against exactly the schema production gets.
 *
 * @example
 *   const db = await createTestDatabase({ schemaPath: path.join(__dirname, '../prisma/schema.prisma'), name: 'te_user' });
 *   afterAll(() => db.drop());
 */
export async function createTestDatabase(options: {
  schemaPath: string;
  name: string;
}): Promise<TestDatabase> {
  if (!NAME.test(options.name) || options.name.length > MAX_NAME_LENGTH) {
    throw new Error(
      `createTestDatabase: name must match ${NAME} and be at most ${MAX_NAME_LENGTH} characters, got ${JSON.stringify(options.name)}`,
    );
  }
  const name = `${options.name}_t${runId()}_${randomBytes(2).toString('hex')}`;
  const url = withDatabase(testDatabaseAdminUrl(), name);
  try {
    await deploy({ schemaPath: options.schemaPath, url });
  } catch (error) {
    await dropTestDatabase(url).catch(() => undefined);
    throw new Error(
      `createTestDatabase: migrating ${maskUrl(url)} from ${options.schemaPath} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { url, name, drop: () => dropTestDatabase(url) };
}

/** Drops the database named by `url` if it exists, closing other sessions first. */
export async function dropTestDatabase(url: string): Promise<void> {
  await dropDatabaseIfExists(url);
}
