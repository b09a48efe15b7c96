/**
 * Durations in configuration: a number with a unit (`500ms`, `5s`, `5m`, `2h`, `5d`); a bare number
 * is seconds. Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = Math.round(Number(match[1]) * (units[match[2] ?? 's'] ?? 1000));
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A comma-separated list of durations (WEBHOOK_RETRY_SCHEDULE); undefined when any entry is not one. */
export function parseDurationList(text: string): number[] | undefined {
  const parts = text.split(',').map(parseDuration);
  return parts.every((ms) => ms !== undefined) ? (parts as number[]) : undefined;
}
