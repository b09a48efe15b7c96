import { maskSecrets } from './database-url.js';
import { MigrateError } from './errors.js';

/** The driver-adapter error registry: errors our JS code threw while the engine called it. */
export interface ErrorLookup {
  consumeError(id: number): { error: unknown } | undefined;
}

/**
 * Engine errors carry a Rust span trace after the message; keep the message. Errors thrown by our
 * own adapter code reach the engine as "External error id#N": put the original message back.
 */
export function engineError(error: unknown, registry?: ErrorLookup): MigrateError {
  if (error instanceof MigrateError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw
    .replace(/External error id#(\d+)/g, (text, id: string) => {
      const original = registry?.consumeError(Number(id))?.error;
      return original instanceof Error ? original.message : text;
    })
    .split('\n')
    .filter((line, index, lines) => index < firstTraceLine(lines))
    .join('\n')
    .trimEnd();
  const code = (error as { code?: unknown })?.code;
  const prefix = typeof code === 'string' && code ? `${code}: ` : '';
  // The trace names the migration that failed; keep that much of it.
  const migration = /migration_name="([^"]+)"/.exec(raw)?.[1];
  const suffix = migration ? `\n(while applying migration ${migration})` : '';
  return new MigrateError(maskSecrets(`${prefix}${message}${suffix}`), { cause: error });
}

function firstTraceLine(lines: string[]): number {
  const index = lines.findIndex((line) => /^\s+\d+: [a-z_]+(::[a-zA-Z_]+)+/.test(line));
  return index === -1 ? lines.length : index;
}
