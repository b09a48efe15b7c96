/**
 * A failure the user can act on. The CLI prints its message (never a stack) and exits with `exitCode`.
 */
export class MigrateError extends Error {
  readonly exitCode: number;

  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'MigrateError';
    this.exitCode = options?.exitCode ?? 1;
  }
}
