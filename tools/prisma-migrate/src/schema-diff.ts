import type { MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { NO_FILTER } from './command-options.js';
import { asDiffSource } from './migrations-folder.js';
import type { EngineSession } from './schema-engine.js';
import type { SchemaFile } from './schema-file.js';

/**
 * The SQL that takes a database built from the migrations to what schema.prisma describes, or null
 * when they agree. The engine replays the migrations in a shadow database it asks the adapter
 * factory for (see shadow-database.ts) and drops afterwards.
 */
export async function diffMigrationsToSchema(
  session: EngineSession,
  list: MigrationList,
  schema: SchemaFile,
): Promise<string | null> {
  const result = await session.run((engine) =>
    engine.diff({
      from: { tag: 'migrations', ...asDiffSource(list) },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      // With exitCode requested, the engine answers 2 when the diff is not empty.
      exitCode: true,
      filters: NO_FILTER,
    }),
  );
  return result.exitCode === 0 ? null : (result.stdout ?? '');
}
