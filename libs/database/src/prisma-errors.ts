/**
 * Prisma error codes we branch on (https://www.prisma.io/docs/orm/reference/error-reference).
 * Checked structurally so this library does not depend on any one service's generated client.
 */
interface UniqueViolationMeta {
  target?: unknown;
  driverAdapterError?: { cause?: { constraint?: { fields?: unknown; index?: unknown } } };
}

/**
 * True for a unique-constraint violation (P2002), optionally only when it concerns `column`. With
 * driver adapters, PostgreSQL reports the index name (`users_email_key`, Prisma's naming
 * `<table>_<columns>_key`) rather than the fields.
 */
export function isUniqueViolation(error: unknown, column?: string): boolean {
  if (!hasCode(error, 'P2002')) return false;
  if (!column) return true;
  const meta = ((error as { meta?: UniqueViolationMeta }).meta ?? {}) as UniqueViolationMeta;
  const constraint = meta.driverAdapterError?.cause?.constraint;
  const fields = Array.isArray(meta.target) ? meta.target : constraint?.fields;
  if (Array.isArray(fields)) return fields.map((f) => String(f).replace(/"/g, '')).includes(column);
  const index = constraint?.index ?? meta.target;
  return typeof index === 'string' && index.endsWith(`_${column}_key`);
}

export function isRecordNotFound(error: unknown): boolean {
  return hasCode(error, 'P2025');
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
