import { maskUrl } from '@te/platform';
import { MigrateError } from './errors.js';

export { maskUrl };

/** PostgreSQL truncates longer identifiers, which would make "exists?" checks lie. */
const MAX_IDENTIFIER_BYTES = 63;

/** Masks every password-bearing URL inside free text (engine and driver messages). */
export function maskSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s]*@/gi, '$1***@');
}

function parse(url: string): URL {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
      throw new MigrateError(`Only PostgreSQL URLs are supported, got ${parsed.protocol}//…`);
    }
    return parsed;
  } catch (error) {
    if (error instanceof MigrateError) throw error;
    throw new MigrateError('The database URL is not a valid URL.');
  }
}

/** The database named by the URL's path. */
export function databaseName(url: string): string {
  const name = decodeURIComponent(parse(url).pathname.replace(/^\//, ''));
  if (!name) throw new MigrateError(`The database URL names no database: ${maskUrl(url)}`);
  return name;
}

/** The same server and credentials, another database (keeps query parameters such as sslmode). */
export function withDatabase(url: string, database: string): string {
  const parsed = parse(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** The `schema` query parameter Prisma URLs may carry; PostgreSQL's default otherwise. */
export function schemaName(url: string): string | undefined {
  return parse(url).searchParams.get('schema') ?? undefined;
}

/** node-postgres would read `?schema=` as a client option; it is Prisma's, so drop it for pg. */
export function pgConnectionString(url: string): string {
  const parsed = parse(url);
  parsed.searchParams.delete('schema');
  return parsed.toString();
}

/** Quotes an identifier for SQL text (CREATE/DROP DATABASE take no parameters). */
export function quoteIdentifier(name: string): string {
  if (!name || name.includes('\0')) throw new MigrateError(`Invalid identifier: ${JSON.stringify(name)}`);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new MigrateError(`Database name is longer than ${MAX_IDENTIFIER_BYTES} bytes: ${name}`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}
