import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { silent } from '../command-options.js';
import { MigrateError } from '../errors.js';
import { findWorkspaceRoot, serviceSchemas } from '../workspace.js';

/** Named by PRISMA_SCHEMA_ENGINE_BINARY: a script that fails with a clear message if ever run. */
export const NO_SCHEMA_ENGINE = path.resolve(__dirname, '..', '..', 'bin', 'no-schema-engine.sh');

export interface GenerateOptions {
  /** One schema; ignored when `all` is set. */
  schemaPath?: string;
  /** Every `apps/*\/prisma/schema.prisma` of the workspace found above `cwd`. */
  all?: boolean;
  cwd?: string;
  log?: (line: string) => void;
}

/**
 * `te-migrate generate [--all]`: runs the Prisma CLI's `prisma generate`. Generation does not use the
 * schema engine, but the CLI insists on a schema-engine binary before it starts; it gets a script
 * that refuses to run, never something pretending to be an engine.
 */
export async function generate(options: GenerateOptions): Promise<{ schemas: string[] }> {
  const log = options.log ?? silent;
  const cwd = options.cwd ?? process.cwd();
  const schemas = options.all
    ? serviceSchemas(findWorkspaceRoot(cwd))
    : [path.resolve(cwd, options.schemaPath ?? './prisma/schema.prisma')];
  if (schemas.length === 0) log('No apps/*/prisma/schema.prisma found.');
  for (const schema of schemas) {
    // From the service's folder, as `npm run` in that workspace would (a prisma.config.ts there applies).
    const serviceDir = path.dirname(path.dirname(schema));
    log(`prisma generate --schema ${path.relative(cwd, schema) || schema}`);
    await runPrismaGenerate(schema, serviceDir, log);
  }
  return { schemas };
}

function prismaCli(): string {
  const manifest = require.resolve('prisma/package.json');
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin['prisma'];
  return path.join(path.dirname(manifest), bin ?? 'build/index.js');
}

function runPrismaGenerate(schema: string, cwd: string, log: (line: string) => void): Promise<void> {
  const env = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: NO_SCHEMA_ENGINE,
    // No update check or telemetry call: these machines have no internet.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaCli(), 'generate', '--schema', schema], { cwd, env });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      const text = output.trim();
      if (code === 0) {
        if (text) log(text);
        resolve();
      } else {
        reject(new MigrateError(`prisma generate failed for ${schema} (exit ${code}):\n${text}`));
      }
    });
  });
}
