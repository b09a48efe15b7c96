// `npm run bench`: each scenario measures a baseline and the subject one after the other, with the
// same connections and duration, and prints one table. See ../README.md.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@te/testing';
import { describeMachine } from './machine.js';
import { parseOptions, USAGE } from './options.js';
import { startHelperServer, WORKSPACE_ROOT, type BenchProcess } from './processes.js';
import { resultsSection, table, writeResults } from './report.js';
import type { Row, Scenario } from './scenario.js';
import { aiGateway } from './scenarios/ai-gateway.js';
import { authenticatedRead } from './scenarios/authenticated-read.js';
import { coldStart } from './scenarios/cold-start.js';
import { events } from './scenarios/events.js';
import { httpOverhead } from './scenarios/http-overhead.js';
import { BenchStack } from './stack.js';

const SCENARIOS: Scenario[] = [httpOverhead, authenticatedRead, events, aiGateway, coldStart];
const DOC = path.join(WORKSPACE_ROOT, 'docs/benchmarks.md');

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  const stack = new BenchStack();
  let provider: BenchProcess | undefined;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: cleaning up (Ctrl-C again to exit at once)');
    void cleanUp().finally(() => process.exit(130));
  };
  const cleanUp = async () => {
    await provider?.stop().catch(() => undefined);
    await stack.teardown();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const rows: Row[] = [];
  const failures: string[] = [];
  try {
    if (options.only.includes(4)) {
      // Before ai-gateway-service starts, whichever scenario starts it: it is configured with it.
      const port = await freePort();
      provider = await startHelperServer('openai-loopback', port);
      stack.aiProviderOrigin = `http://127.0.0.1:${port}`;
    }
    for (const scenario of SCENARIOS.filter((s) => options.only.includes(s.id))) {
      log(`scenario ${scenario.id}: ${scenario.title}`);
      try {
        rows.push(...(await scenario.run({ stack, load: options.load, events: options.events, log })));
      } catch (error) {
        failures.push(`scenario ${scenario.id} failed: ${(error as Error)?.stack ?? String(error)}`);
        log(failures.at(-1) ?? '');
      }
    }
  } finally {
    log('cleaning up: stopping services, dropping databases, queues, exchange and keys');
    await cleanUp();
  }

  const settings = `${options.load.connections} connections, ${options.load.durationS} s per side after ${options.load.warmupS} s warm-up, ${options.events} events`;
  process.stdout.write(`\n${table(rows)}\n\n(${settings})\n`);
  if (options.write && rows.length) {
    const machine = await describeMachine(
      process.env['REDIS_URL'] || 'redis://127.0.0.1:6379',
      stack.amqp.url,
    );
    const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
    await writeResults(DOC, resultsSection({ rows, machine, command, settings, date: new Date() }));
    await promisify(execFile)(path.join(WORKSPACE_ROOT, 'node_modules/.bin/prettier'), ['--write', DOC]);
    log(`results written to ${path.relative(WORKSPACE_ROOT, DOC)}`);
  }
  for (const failure of failures) process.stderr.write(`${failure}\n`);
  return failures.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
