import {
  databaseName,
  maskSecrets,
  maskUrl,
  pgConnectionString,
  quoteIdentifier,
  schemaName,
  withDatabase,
} from './database-url.js';

describe('database URLs', () => {
  const url = 'postgresql://app:p%40ss@db.internal:5432/te_user?schema=users&sslmode=require';

  test('When a URL has a password, then masking hides it and keeps the rest', () => {
    expect(maskUrl(url)).toBe('postgresql://app:***@db.internal:5432/te_user?schema=users&sslmode=require');
    expect(maskSecrets(`failed on ${url} and amqp://guest:guest@mq/`)).toBe(
      'failed on postgresql://app:***@db.internal:5432/te_user?schema=users&sslmode=require and amqp://guest:***@mq/',
    );
  });

  test('When another database of the same server is needed, then only the path changes', () => {
    expect(databaseName(url)).toBe('te_user');
    expect(withDatabase(url, 'postgres')).toBe(
      'postgresql://app:p%40ss@db.internal:5432/postgres?schema=users&sslmode=require',
    );
    expect(databaseName(withDatabase(url, 'odd name/"x"'))).toBe('odd name/"x"');
  });

  test("When the URL carries Prisma's schema parameter, then pg does not see it but the adapter does", () => {
    expect(schemaName(url)).toBe('users');
    expect(pgConnectionString(url)).toBe('postgresql://app:p%40ss@db.internal:5432/te_user?sslmode=require');
  });

  test('When a name is quoted, then embedded quotes are doubled and impossible names are refused', () => {
    expect(quoteIdentifier('a"b; DROP')).toBe('"a""b; DROP"');
    expect(() => quoteIdentifier('')).toThrow('Invalid identifier');
    expect(() => quoteIdentifier('x'.repeat(64))).toThrow('longer than 63 bytes');
  });

  test('When the URL is not PostgreSQL or names no database, then it is refused without echoing the password', () => {
    expect(() => databaseName('mysql://a:secret@h/x')).toThrow('Only PostgreSQL URLs');
    expect(() => databaseName('postgresql://a:secret@h/')).toThrow('postgresql://a:***@h/');
  });
});
