import { createPaint, type Paint } from './colours.js';

export interface LogLabellerOptions {
  /** Every name that will be labelled (fixes the label width and each name's colour). */
  names: string[];
  colour: boolean;
  /** Print JSON log lines as "time level message key=value" instead of as-is. */
  pretty: boolean;
}

export interface LogLabeller {
  readonly paint: Paint;
  /** One output line: the fixed-width label, a separator, then the line (as-is or pretty). */
  format(name: string, line: string): string;
}

// Shown by the pretty form in its own columns, or noise on a developer's terminal.
const PRETTY_SKIPPED_KEYS = new Set(['timestamp', 'level', 'message', 'service', 'trace_id', 'span_id']);

export function createLogLabeller(options: LogLabellerOptions): LogLabeller {
  const paint = createPaint(options.colour);
  const width = Math.max(0, ...options.names.map((name) => name.length));
  const labels = new Map(options.names.map((name, index) => [name, paint.label(index, name.padEnd(width))]));
  return {
    paint,
    format(name, line) {
      const label = labels.get(name) ?? name.padEnd(width);
      const text = options.pretty ? (prettyJsonLine(line, paint) ?? line) : line;
      return `${label} ${paint.dim('|')} ${text}`;
    },
  };
}

/** "12:04:05.123 info  message key=value", or undefined when the line is not a JSON log record. */
export function prettyJsonLine(line: string, paint: Paint = createPaint(false)): string | undefined {
  if (!line.startsWith('{')) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(record) || typeof record['message'] !== 'string') return undefined;
  const level = typeof record['level'] === 'string' ? record['level'] : 'info';
  const time = typeof record['timestamp'] === 'string' ? clockTime(record['timestamp']) : '';
  const extras = Object.entries(record)
    .filter(
      ([key, value]) =>
        !PRETTY_SKIPPED_KEYS.has(key) && value !== undefined && value !== null && value !== '',
    )
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const parts = [time, paint.level(level, level.padEnd(5)), record['message']];
  if (extras.length > 0) parts.push(paint.dim(extras.join(' ')));
  return parts.filter((part) => part !== '').join(' ');
}

/** "2026-01-02T12:04:05.123Z" → "12:04:05.123"; anything else stays as it is. */
function clockTime(timestamp: string): string {
  const match = /T(\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)/.exec(timestamp);
  return match ? match[1] : timestamp;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
