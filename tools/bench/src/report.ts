import { readFile, writeFile } from 'node:fs/promises';
import type { Machine } from './machine.js';
import type { Row } from './scenario.js';

export const RESULTS_START = '<!-- bench:results:start (written by `npm run bench -- --write`) -->';
export const RESULTS_END = '<!-- bench:results:end -->';

const decimals: Record<Row['unit'], number> = { 'req/s': 0, 'ev/s': 0, ms: 2, MiB: 1 };

function format(value: number, unit: Row['unit']): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: decimals[unit],
    maximumFractionDigits: decimals[unit],
  });
}

/** The results as a Markdown table: subject / baseline, and subject − baseline. */
export function table(rows: Row[]): string {
  const lines = [
    '| scenario (baseline → subject) | metric | baseline | subject | ratio | difference |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  let previous = '';
  for (const row of rows) {
    const ratio = row.subject / row.baseline;
    const difference = row.subject - row.baseline;
    const sign = difference >= 0 ? '+' : '−';
    lines.push(
      [
        row.scenario === previous ? '' : row.scenario,
        row.metric,
        `${format(row.baseline, row.unit)} ${row.unit}`,
        `${format(row.subject, row.unit)} ${row.unit}`,
        Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—',
        `${sign}${format(Math.abs(difference), row.unit)} ${row.unit}`,
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    );
    previous = row.scenario;
  }
  const notes = rows.filter((row) => row.note).map((row) => `- ${row.scenario}: ${row.note}`);
  return [...lines, ...(notes.length ? ['', 'Errors while measuring:', '', ...notes] : [])].join('\n');
}

export function resultsSection(options: {
  rows: Row[];
  machine: Machine;
  command: string;
  settings: string;
  date: Date;
}): string {
  const { machine } = options;
  return [
    `Run on ${options.date.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${options.command}\` (${options.settings}).`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB RAM (from /proc)`,
    `- Node ${machine.node}; PostgreSQL ${machine.postgres}; Redis ${machine.redis}; RabbitMQ ${machine.rabbitmq}`,
    '',
    table(options.rows),
  ].join('\n');
}

/**
 * Replaces the results between the markers of docs/benchmarks.md, keeping the prose around them
 * (how to read the numbers, findings); creates the file with the markers when it does not exist.
 */
export async function writeResults(file: string, section: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  const block = `${RESULTS_START}\n\n${section}\n\n${RESULTS_END}`;
  if (current === undefined) {
    await writeFile(file, `# Benchmarks\n\n${block}\n`);
    return;
  }
  const start = current.indexOf(RESULTS_START);
  const end = current.indexOf(RESULTS_END);
  if (start < 0 || end < start)
    throw new Error(`${file} has no results markers; add them where the table goes`);
  await writeFile(file, `${current.slice(0, start)}${block}${current.slice(end + RESULTS_END.length)}`);
}
