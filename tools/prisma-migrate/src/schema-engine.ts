import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { createAdapterFactory } from './adapter-factory.js';
import { silent } from './command-options.js';
import { engineError } from './engine-error.js';
import { sessionClosed, sessionOpened, withTrackedTimers } from './engine-timers.js';
import { MigrateError } from './errors.js';
import type { SchemaFile } from './schema-file.js';

export type { SchemaEngine };
type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let bindings: Promise<Bindings> | undefined;

// The WebAssembly global exists in Node; its types live in TypeScript's DOM lib, which we do not load.
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Module: { imports(module: object): Array<{ module: string }> };
  instantiate(module: object, imports: Record<string, object>): Promise<{ exports: Record<string, unknown> }>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * Loads Prisma's schema engine compiled to WebAssembly, once per process. The package is
 * bundler-style ESM (its entry imports the .wasm file as a module, which Node cannot), so we load
 * the JS glue ("bg") ourselves, compile the .wasm and hand its exports to the glue.
 *
 * Built (CommonJS) code keeps a real `import()`; under Jest, swc turns it into `require()`, which
 * works when Jest transforms this package (see jest.config.cjs: transformIgnorePatterns).
 */
export function loadSchemaEngineBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    let bg: Bindings;
    try {
      bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    } catch (error) {
      throw new MigrateError(
        'Could not load @prisma/schema-engine-wasm. Under Jest, let swc compile it: add ' +
          '"@prisma/schema-engine-wasm" to the exceptions in transformIgnorePatterns.',
        { cause: error },
      );
    }
    const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const module = await wasm.compile(await readFile(path.join(dir, 'schema_engine_bg.wasm')));
    // The module imports the glue under its own file name ("./schema_engine_bg.js").
    const glue = withTrackedTimers(bg);
    const imports: Record<string, object> = {};
    for (const entry of wasm.Module.imports(module)) imports[entry.module] ??= glue;
    const instance = await wasm.instantiate(module, imports);
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return bg;
  })();
  bindings.catch(() => (bindings = undefined));
  return bindings;
}

export interface EngineSession {
  /** Runs one engine call; engine and driver errors come back as a readable MigrateError. */
  run<T>(call: (engine: SchemaEngine) => Promise<T>): Promise<T>;
  /** Frees the engine, removes any leftover shadow database, ends the pool. */
  close(): Promise<void>;
}

/** Opens an engine on the database of `url` (which must exist), with `schema` as its datamodel. */
export async function openSchemaEngine(options: { url: string; schema: SchemaFile }): Promise<EngineSession> {
  const bg = await loadSchemaEngineBindings();
  const factory = createAdapterFactory(options.url);
  // Without this wrapper the engine cannot read the adapter's results ("reading 'valueOf'").
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  const debug = process.env['TE_MIGRATE_DEBUG']
    ? (line: string) => process.stderr.write(`${line}\n`)
    : silent;
  let engine: SchemaEngine;
  sessionOpened();
  try {
    engine = await bg.SchemaEngine.new(
      { datamodels: [[options.schema.path, options.schema.content]] },
      debug,
      bound,
    );
  } catch (error) {
    await factory.close();
    sessionClosed();
    throw engineError(error, bound.errorRegistry);
  }
  return {
    async run(call) {
      try {
        return await call(engine);
      } catch (error) {
        throw engineError(error, bound.errorRegistry);
      }
    },
    async close() {
      engine.free();
      try {
        await factory.close();
      } finally {
        sessionClosed();
      }
    },
  };
}
