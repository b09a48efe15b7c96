import type { LoadSettings } from './load.js';

export interface BenchOptions {
  only: number[];
  load: LoadSettings;
  events: number;
  write: boolean;
  help: boolean;
}

export const USAGE = `npm run bench [-- options]

  --only=1,3        run these scenarios only (1 HTTP stack, 2 authenticated read, 3 events,
                    4 AI gateway, 5 cold start and memory); default: all
  --connections=10  concurrent connections (callers) of every load run
  --duration=10     seconds measured per side
  --warmup=2        seconds of discarded warm-up per side
  --events=2000     events per side in scenario 3
  --write           write the table into docs/benchmarks.md
`;

export const SCENARIO_IDS = [1, 2, 3, 4, 5];

/** Parses `--name=value` flags; unknown flags and bad values are errors listed together. */
export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  const problems: string[] = [];
  for (const arg of argv) {
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (!match) problems.push(`unexpected argument ${arg}`);
    else flags.set(match[1], match[2] ?? 'true');
  }
  const known = new Set(['only', 'connections', 'duration', 'warmup', 'events', 'write', 'help']);
  for (const name of flags.keys()) if (!known.has(name)) problems.push(`unknown option --${name}`);
  const number = (name: string, fallback: number, min: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) problems.push(`--${name} must be a number ≥ ${min}`);
    return value;
  };
  const only = (flags.get('only') ?? SCENARIO_IDS.join(',')).split(',').map((part) => Number(part.trim()));
  if (only.some((id) => !SCENARIO_IDS.includes(id)))
    problems.push(`--only takes ids among ${SCENARIO_IDS.join(', ')}`);
  const options: BenchOptions = {
    only: [...new Set(only)].sort(),
    load: {
      connections: number('connections', 10, 1),
      durationS: number('duration', 10, 1),
      warmupS: number('warmup', 2, 0),
    },
    events: number('events', 2000, 10),
    write: flags.has('write'),
    help: flags.has('help'),
  };
  if (problems.length) throw new Error(`${problems.join('\n')}\n\n${USAGE}`);
  return options;
}
