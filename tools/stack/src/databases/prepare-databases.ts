import { deploy, maskSecrets } from '@te/prisma-migrate';

export interface DatabaseTarget {
  service: string;
  database: { name: string; url: string; schemaPath: string };
}

export interface DatabaseOutcome {
  service: string;
  database: string;
  ok: boolean;
  /** "created, 2 migrations applied", "up to date", or the error. */
  summary: string;
  /** te-migrate's own progress lines, for a failure report. */
  details: string[];
}

/**
 * Creates each database if missing and applies its pending migrations, one service after another
 * (the schema engine is one WebAssembly instance per process). Stops at the first failure.
 */
export async function prepareDatabases(
  targets: DatabaseTarget[],
  onOutcome: (outcome: DatabaseOutcome) => void = () => undefined,
): Promise<DatabaseOutcome[]> {
  const outcomes: DatabaseOutcome[] = [];
  for (const { service, database } of targets) {
    const details: string[] = [];
    let outcome: DatabaseOutcome;
    try {
      const result = await deploy({
        schemaPath: database.schemaPath,
        url: database.url,
        log: (line) => details.push(line),
      });
      outcome = { service, database: database.name, ok: true, summary: summarise(result), details };
    } catch (error) {
      const message = maskSecrets(error instanceof Error ? error.message : String(error));
      outcome = { service, database: database.name, ok: false, summary: message, details };
    }
    outcomes.push(outcome);
    onOutcome(outcome);
    if (!outcome.ok) break;
  }
  return outcomes;
}

function summarise(result: { createdDatabase: boolean; applied: string[] }): string {
  const applied =
    result.applied.length === 0
      ? 'up to date'
      : `${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} applied (${result.applied.join(', ')})`;
  return result.createdDatabase ? `created, ${applied}` : applied;
}
