import type { LoadSettings } from './load.js';
import type { BenchStack } from './stack.js';

/** One line of the results table: the same metric measured on the baseline and on the subject. */
export interface Row {
  scenario: string;
  metric: string;
  unit: 'req/s' | 'ev/s' | 'ms' | 'MiB';
  baseline: number;
  subject: number;
  /** Notes such as errors seen while measuring. */
  note?: string;
}

export interface ScenarioContext {
  stack: BenchStack;
  load: LoadSettings;
  /** Events written per side in scenario 3. */
  events: number;
  log(message: string): void;
}

export interface Scenario {
  id: number;
  title: string;
  run(context: ScenarioContext): Promise<Row[]>;
}

/** The usual three rows of a load comparison. */
export function loadRows(
  scenario: string,
  baseline: { rps: number; p50: number; p99: number; errors: number; firstError?: string },
  subject: { rps: number; p50: number; p99: number; errors: number; firstError?: string },
): Row[] {
  const note = [baseline, subject]
    .map((side, index) =>
      side.errors ? `${index ? 'subject' : 'baseline'}: ${side.errors} errors (${side.firstError})` : '',
    )
    .filter(Boolean)
    .join('; ');
  return [
    {
      scenario,
      metric: 'throughput',
      unit: 'req/s',
      baseline: baseline.rps,
      subject: subject.rps,
      ...(note ? { note } : {}),
    },
    { scenario, metric: 'p50', unit: 'ms', baseline: baseline.p50, subject: subject.p50 },
    { scenario, metric: 'p99', unit: 'ms', baseline: baseline.p99, subject: subject.p99 },
  ];
}
