/** Prisma cuts migration names at this length (prisma/packages/migrate, getMigrationName). */
const MAX_NAME_LENGTH = 200;

/**
 * Normalises a migration name as `prisma migrate dev --name` does (@sindresorhus/slugify with "_"):
 * accents dropped, camelCase split, lower case, every run of other characters becomes one "_".
 */
export function normalizeMigrationName(name: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, ' and ')
    .replace(/([A-Z]{2,})(\d+)/g, '$1 $2')
    .replace(/([a-z\d]+)([A-Z]{2,})/g, '$1 $2')
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-rt-z\d]+)/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return words.slice(0, MAX_NAME_LENGTH);
}

/** `YYYYMMDDHHMMSS` in UTC, the prefix the schema engine gives migration folders. */
export function migrationTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** `<timestamp>_<name>`, or the bare timestamp when the name normalises to nothing (as Prisma does). */
export function migrationFolderName(name: string, now: Date): string {
  const normalized = normalizeMigrationName(name);
  return normalized ? `${migrationTimestamp(now)}_${normalized}` : migrationTimestamp(now);
}
