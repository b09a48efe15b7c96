// @te/prisma-migrate: migrations on Prisma's WebAssembly schema engine. See ../README.md.
export { check, type CheckResult } from './commands/check.command.js';
export { createDb } from './commands/create-db.command.js';
export { deploy, type DeployResult } from './commands/deploy.command.js';
export { dev, type DevResult } from './commands/dev.command.js';
export { generate, type GenerateOptions } from './commands/generate.command.js';
export { status } from './commands/status.command.js';
export type { DatabaseCommandOptions } from './command-options.js';
export { createDatabaseIfMissing, databaseExists, dropDatabaseIfExists } from './database-admin.js';
export { databaseName, maskSecrets, maskUrl, withDatabase } from './database-url.js';
export { MigrateError } from './errors.js';
export type { MigrationStatus } from './migration-history.js';
export { migrationFolderName, normalizeMigrationName } from './migration-name.js';
export { migrationChecksum } from './migrations-folder.js';
export { main, type CliIo } from './main.js';
