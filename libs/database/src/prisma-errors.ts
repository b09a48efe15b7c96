import { AppError } from '@te/platform';
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

// Prisma's codes for a database it cannot reach or use right now (connection refused or lost, server
// closed the connection, pool timeout); with driver adapters the pg error shows through as well.
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const PG_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08003',
]);

/** True when the error says the database is unreachable or not accepting work (not a bad query). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || PG_CONNECTION_CODES.has(code)))
      return true;
    if (
      typeof message === 'string' &&
      /Can't reach database server|Connection terminated|terminating connection|ECONNREFUSED|Timed out fetching a new connection/.test(
        message,
      )
    )
      return true;
    current = cause;
  }
  return false;
}

// PostgreSQL refuses text it cannot store: NUL (0x00) in a UTF-8 string, or an untranslatable character.
const UNSTORABLE_TEXT_CODES = new Set(['22021', '22P05']);

/** True when PostgreSQL refused a value of the request because of a character it cannot store. */
export function isUnstorableText(error: unknown): boolean {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { code?: unknown } } } } | null)?.meta;
  const codes = [(error as { code?: unknown } | null)?.code, meta?.driverAdapterError?.cause?.code];
  return codes.some((code) => typeof code === 'string' && UNSTORABLE_TEXT_CODES.has(code));
}

/**
 * For gRPC servers' classifyError: database failures that are not the service's bug. Unreachable →
 * UNAVAILABLE (503 at the gateway, retried by callers); a request value PostgreSQL cannot store (a NUL
 * character no validation caught) → VALIDATION_FAILED (400). Anything else stays INTERNAL.
 */
export function classifyDatabaseError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return undefined;
  if (isUnstorableText(error))
    return new AppError(
      'VALIDATION_FAILED',
      'The request contains a character that cannot be stored (such as NUL)',
      {
        cause: error,
      },
    );
  if (!isDatabaseUnavailable(error)) return undefined;
  return new AppError('UNAVAILABLE', 'The service cannot reach its database', {
    cause: error,
    details: { reason: 'database_unavailable' },
  });
}
