/**
 * Prisma error codes we branch on (https://www.prisma.io/docs/orm/reference/error-reference).
 * Checked structurally so this library does not depend on any one service's generated client.
 */
export function isUniqueViolation(error: unknown, field?: string): boolean {
  if (!hasCode(error, 'P2002')) return false;
  if (!field) return true;
  const meta = (
    error as {
      meta?: { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } };
    }
  ).meta;
  const target = meta?.target;
  const fields = Array.isArray(target) ? target : meta?.driverAdapterError?.cause?.constraint?.fields;
  return Array.isArray(fields)
    ? fields.some((f) => String(f).replace(/"/g, '') === field)
    : typeof target === 'string' && target.includes(field);
}

export function isRecordNotFound(error: unknown): boolean {
  return hasCode(error, 'P2025');
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
