import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MigrateError } from './errors.js';

/** The monorepo root: the nearest directory upwards whose package.json declares "workspaces". */
export function findWorkspaceRoot(from: string): string {
  let dir = path.resolve(from);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object))
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new MigrateError(`No package.json with "workspaces" above ${from}.`);
    dir = parent;
  }
}

/** Every `apps/<service>/prisma/schema.prisma` of the workspace, sorted. */
export function serviceSchemas(root: string): string[] {
  const apps = path.join(root, 'apps');
  const entries = existsSync(apps) ? readdirSync(apps, { withFileTypes: true }) : [];
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(apps, entry.name, 'prisma', 'schema.prisma'))
    .filter((schema) => existsSync(schema))
    .sort();
}
