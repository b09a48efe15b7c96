import { parseArgs } from 'node:util';
import { MigrateError } from './errors.js';
import { DEFAULT_SCHEMA_PATH } from './schema-file.js';

export const COMMANDS = ['create-db', 'deploy', 'dev', 'status', 'check', 'generate'] as const;
export type CommandName = (typeof COMMANDS)[number];

export const USAGE = `Usage: te-migrate <command> [options]

Migrations for PostgreSQL on Prisma's WebAssembly schema engine (no engine download).

Commands:
  create-db            create the database named in the URL if it does not exist
  deploy               create the database if missing, then apply pending migrations
  dev --name <name>    write a migration for the schema's changes and apply it (development)
  status               list applied and pending migrations; exit 1 unless up to date
  check                exit 1 (printing the SQL needed) when schema.prisma and the migrations
                       disagree; uses a throwaway shadow database only (CI drift check)
  generate [--all]     prisma generate for the schema, or for every apps/*/prisma/schema.prisma

Options:
  --schema <path>      Prisma schema (default ${DEFAULT_SCHEMA_PATH}); migrations: <schema dir>/migrations
  --url <url>          PostgreSQL URL (default: $DATABASE_URL)
  --name <name>        migration name for dev
  --all                generate every service schema of the workspace
  -h, --help           this text
`;

export interface CliArgs {
  command: CommandName | 'help';
  schemaPath: string;
  url?: string;
  name?: string;
  all: boolean;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        schema: { type: 'string', default: DEFAULT_SCHEMA_PATH },
        url: { type: 'string' },
        name: { type: 'string' },
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new MigrateError(`${(error as Error).message}\n\n${USAGE}`, { exitCode: 2 });
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help')
    return { command: 'help', schemaPath: values.schema, all: false };
  if (!(COMMANDS as readonly string[]).includes(command) || extra.length > 0) {
    throw new MigrateError(`Unknown command: ${[command, ...extra].join(' ')}\n\n${USAGE}`, { exitCode: 2 });
  }
  return {
    command: command as CommandName,
    schemaPath: values.schema,
    url: values.url ?? env['DATABASE_URL'],
    name: values.name,
    all: values.all,
  };
}

export function requireUrl(args: CliArgs): string {
  if (!args.url) throw new MigrateError('No database URL: pass --url or set DATABASE_URL.', { exitCode: 2 });
  return args.url;
}
