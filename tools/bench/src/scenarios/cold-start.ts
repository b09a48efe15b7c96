import { freePort } from '@te/testing';
import { startHelperServer } from '../processes.js';
import type { Row, Scenario } from '../scenario.js';
import { SERVICE_NAMES } from '../stack.js';

/**
 * 5. Per service: spawn → first 200 from /readyz (databases already migrated: migrations are a
 * deploy step, not part of a start), and VmRSS one second later, idle. The services are started one
 * after another (scenarios that ran before may have started some already: their numbers were taken
 * the same way). Baseline: the node:http hello world, spawn → first 200, and its RSS.
 */
export const coldStart: Scenario = {
  id: 5,
  title: 'Cold start (spawn → /readyz 200) and idle RSS per service',
  async run({ stack, log }) {
    log('5: node:http hello world cold start');
    const hello = await startHelperServer('hello-world', await freePort());
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const baseline = { coldStartMs: hello.coldStartMs, rss: await hello.rssMiB() };
    await hello.stop();
    log('5: starting every service not running yet');
    await stack.ensure(SERVICE_NAMES);
    return stack.all().flatMap((service): Row[] => [
      {
        scenario: `5 hello world → ${service.name}`,
        metric: 'cold start',
        unit: 'ms',
        baseline: baseline.coldStartMs,
        subject: service.process.coldStartMs,
      },
      {
        scenario: `5 hello world → ${service.name}`,
        metric: 'idle RSS',
        unit: 'MiB',
        baseline: baseline.rss,
        subject: service.idleRssMiB,
      },
    ]);
  },
};
