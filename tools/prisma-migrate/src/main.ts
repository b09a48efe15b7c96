import path from 'node:path';
import { parseCliArgs, requireUrl, USAGE, type CliArgs } from './cli-args.js';
import { check } from './commands/check.command.js';
import { createDb } from './commands/create-db.command.js';
import { deploy } from './commands/deploy.command.js';
import { dev } from './commands/dev.command.js';
import { generate } from './commands/generate.command.js';
import { status } from './commands/status.command.js';
import { maskSecrets } from './database-url.js';
import { MigrateError } from './errors.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  cwd: process.cwd(),
};

/** Runs `te-migrate <argv>` and resolves to the exit code. Every line printed has passwords masked. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const log = (line: string) => io.stdout(maskSecrets(line));
  try {
    return await run(parseCliArgs(argv, io.env), log, io.cwd);
  } catch (error) {
    if (error instanceof MigrateError) {
      io.stderr(maskSecrets(`Error: ${error.message}`));
      return error.exitCode;
    }
    // Unexpected: the message for people, the stack only when debugging.
    const detail = io.env['TE_MIGRATE_DEBUG'] ? (error as Error)?.stack : (error as Error)?.message;
    io.stderr(maskSecrets(`Error: ${detail ?? String(error)}`));
    return 1;
  }
}

async function run(args: CliArgs, log: (line: string) => void, cwd: string): Promise<number> {
  const schemaPath = path.resolve(cwd, args.schemaPath);
  switch (args.command) {
    case 'help':
      log(USAGE);
      return 0;
    case 'create-db':
      await createDb({ url: requireUrl(args), log });
      return 0;
    case 'deploy':
      await deploy({ schemaPath, url: requireUrl(args), log });
      return 0;
    case 'dev':
      await dev({ schemaPath, url: requireUrl(args), name: args.name ?? '', log });
      return 0;
    case 'status':
      return (await status({ schemaPath, url: requireUrl(args), log })).upToDate ? 0 : 1;
    case 'check':
      return (await check({ schemaPath, url: requireUrl(args), log })).inSync ? 0 : 1;
    case 'generate':
      await generate({ schemaPath, all: args.all, cwd, log });
      return 0;
  }
}
