import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MigrateError } from './errors.js';

export const DEFAULT_SCHEMA_PATH = './prisma/schema.prisma';

export interface SchemaFile {
  /** Absolute path; the engine uses it in its messages. */
  path: string;
  content: string;
}

export async function readSchemaFile(schemaPath: string): Promise<SchemaFile> {
  const absolute = path.resolve(schemaPath);
  let content: string;
  try {
    content = await readFile(absolute, 'utf8');
  } catch {
    throw new MigrateError(`Prisma schema not found: ${absolute}`);
  }
  const provider = datasourceProvider(content);
  if (provider !== 'postgresql') {
    throw new MigrateError(
      `${absolute}: the datasource provider must be "postgresql" (found ${provider ?? 'none'}).`,
    );
  }
  return { path: absolute, content };
}

/** The `provider` of the schema's datasource block, if any. */
export function datasourceProvider(content: string): string | undefined {
  const block = /datasource\s+\w+\s*\{([^}]*)\}/.exec(content)?.[1];
  return block ? /provider\s*=\s*"([^"]+)"/.exec(block)?.[1] : undefined;
}

/** Prisma's layout: the migrations folder sits beside the schema. */
export function migrationsDirFor(schemaPath: string): string {
  return path.join(path.dirname(path.resolve(schemaPath)), 'migrations');
}
