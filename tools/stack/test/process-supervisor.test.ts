import path from 'node:path';
import { createLogLabeller } from '../src/logs/log-labeller.js';
import {
  ProcessSupervisor,
  StartupError,
  type ChildSpec,
  type SupervisorOptions,
} from '../src/supervisor/process-supervisor.js';
import type { ExitReport } from '../src/supervisor/exit-report.js';
import { FIXTURES, Output, freePort } from './helpers.js';

jest.setTimeout(30_000);

const NAMES = ['backend-a', 'backend-b', 'gateway', 'broken', 'stuck'];

async function fixture(
  name: string,
  env: Record<string, string> = {},
  script = 'ready-service.mjs',
): Promise<ChildSpec> {
  const port = await freePort();
  return {
    name,
    command: process.execPath,
    args: [path.join(FIXTURES, script)],
    cwd: FIXTURES,
    env: { PATH: process.env['PATH'], SERVICE_NAME: name, PORT: String(port), ...env },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  };
}

function supervisorWith(output: Output, overrides: Partial<SupervisorOptions> = {}): ProcessSupervisor {
  const labeller = createLogLabeller({ names: NAMES, colour: false, pretty: false });
  return new ProcessSupervisor({
    write: output.write,
    format: (name, line) => labeller.format(name, line),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 10_000,
    pollIntervalMs: 50,
    ...overrides,
  });
}

describe('ProcessSupervisor', () => {
  let supervisor: ProcessSupervisor | undefined;

  afterEach(async () => {
    await supervisor?.stop();
    supervisor = undefined;
  });

  it('When two children serve /readyz, then the wave starts and every line carries its fixed-width label', async () => {
    const output = new Output();
    supervisor = supervisorWith(output);

    await supervisor.startWave([
      await fixture('backend-a', { READY_AFTER_MS: '300' }),
      await fixture('backend-b'),
    ]);

    expect(supervisor.running()).toEqual(['backend-a', 'backend-b']);
    const listening = output.lines.find(
      (line) => line.text.startsWith('backend-a ') && line.text.includes('"listening"'),
    );
    expect(listening?.text).toMatch(/^backend-a \| \{"timestamp":".+","level":"info","message":"listening"/);
    expect(output.lines).toContainEqual({
      text: 'backend-b | backend-b says hello on stderr',
      stream: 'stderr',
    });
  });

  it('When the stack stops, then the last wave gets SIGTERM first, the rest after it exited, and every exit is reported', async () => {
    const output = new Output();
    supervisor = supervisorWith(output);
    await supervisor.startWave([
      await fixture('backend-a'),
      await fixture('backend-b', { STOP_EXIT_CODE: '4' }),
    ]);
    await supervisor.startWave([await fixture('gateway', { STOP_DELAY_MS: '300' })]);

    const reports = await supervisor.stop();

    expect(reports).toEqual([
      { name: 'backend-a', code: 0, signal: null, forced: false },
      { name: 'backend-b', code: 4, signal: null, forced: false },
      { name: 'gateway', code: 0, signal: null, forced: false },
    ]);
    const gatewayExiting = output.lines.findIndex(
      (l) => l.text.startsWith('gateway') && l.text.includes('"exiting"'),
    );
    const backendSigterm = output.lines.findIndex(
      (l) => l.text.startsWith('backend-a') && l.text.includes('SIGTERM received'),
    );
    expect(gatewayExiting).toBeGreaterThan(-1);
    expect(backendSigterm).toBeGreaterThan(gatewayExiting);
    expect(supervisor.running()).toEqual([]);
  });

  it('When a child exits at once, then the start fails naming it, its exit code and its last lines', async () => {
    const output = new Output();
    supervisor = supervisorWith(output);

    const failure = await supervisor
      .startWave([await fixture('backend-a'), await fixture('broken', {}, 'exit-at-once.mjs')])
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StartupError);
    const { failures } = failure as StartupError;
    expect(failures).toHaveLength(1);
    expect(failures[0].name).toBe('broken');
    expect(failures[0].reason).toBe('exited before it was ready (exit code 3)');
    // stdout and stderr are separate pipes: both lines are there, in either order.
    expect([...failures[0].tail].sort()).toEqual([
      'broken    | Error: DATABASE_URL is required',
      'broken    | {"level":"info","message":"starting","service":"broken"}',
    ]);
    // The healthy one is still running until the caller stops everything.
    expect(supervisor.running()).toEqual(['backend-a']);
  });

  it('When a child never becomes ready, then the start fails after the timeout with the URL and its last answer', async () => {
    const output = new Output();
    supervisor = supervisorWith(output, { readyTimeoutMs: 1_000 });
    const spec = await fixture('stuck', { NEVER_READY: '1' });

    const started = Date.now();
    const failure = (await supervisor.startWave([spec]).catch((error: unknown) => error)) as StartupError;

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(failure.failures).toEqual([
      {
        name: 'stuck',
        reason: `not ready after 1 s (${spec.readyUrl}: answered 503)`,
        tail: expect.any(Array),
      },
    ]);
    expect(failure.failures[0].tail.join('\n')).toContain('"listening"');
  });

  it('When a child ignores SIGTERM, then it is killed with SIGKILL at the stop timeout and reported as forced', async () => {
    const output = new Output();
    supervisor = supervisorWith(output, { stopTimeoutMs: 800 });
    await supervisor.startWave([await fixture('backend-a'), await fixture('stuck', { IGNORE_SIGTERM: '1' })]);

    const started = Date.now();
    const reports = await supervisor.stop();

    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(reports).toEqual([
      { name: 'backend-a', code: 0, signal: null, forced: false },
      { name: 'stuck', code: null, signal: 'SIGKILL', forced: true },
    ]);
  });

  it('When a running child dies, then onUnexpectedExit reports it with its last lines', async () => {
    const output = new Output();
    const unexpected: { report: ExitReport; tail: string[] }[] = [];
    let notify: () => void = () => undefined;
    const reported = new Promise<void>((resolve) => (notify = resolve));
    supervisor = supervisorWith(output, {
      onUnexpectedExit: (report, tail) => {
        unexpected.push({ report, tail });
        notify();
      },
    });
    await supervisor.startWave([
      await fixture('backend-a', { CRASH_AFTER_MS: '1500' }),
      await fixture('backend-b'),
    ]);

    await reported;

    expect(unexpected).toHaveLength(1);
    expect(unexpected[0].report).toEqual({ name: 'backend-a', code: 7, signal: null, forced: false });
    expect(unexpected[0].tail.at(-1)).toContain('crashing on purpose');
    expect(supervisor.running()).toEqual(['backend-b']);
  });

  it('When the command does not exist, then the start fails with the spawn error', async () => {
    supervisor = supervisorWith(new Output());
    const spec = { ...(await fixture('broken')), command: path.join(FIXTURES, 'no-such-binary') };

    const failure = (await supervisor.startWave([spec]).catch((error: unknown) => error)) as StartupError;

    expect(failure.failures[0].reason).toMatch(
      /^exited before it was ready \(could not start: spawn .*ENOENT\)$/,
    );
  });
});

describe('ProcessSupervisor while a wave is still starting', () => {
  it('When a child that was ready dies before the rest of its wave is, then onUnexpectedExit still reports it', async () => {
    const output = new Output();
    const unexpected: string[] = [];
    const labeller = createLogLabeller({ names: NAMES, colour: false, pretty: false });
    const supervisor = new ProcessSupervisor({
      write: output.write,
      format: (name, line) => labeller.format(name, line),
      readyTimeoutMs: 10_000,
      stopTimeoutMs: 10_000,
      pollIntervalMs: 50,
      onUnexpectedExit: (report) => unexpected.push(`${report.name}:${report.code}`),
    });
    try {
      await supervisor.startWave([
        await fixture('backend-a', { CRASH_AFTER_MS: '1500' }),
        await fixture('backend-b', { READY_AFTER_MS: '4000' }),
      ]);

      expect(unexpected).toEqual(['backend-a:7']);
      expect(supervisor.running()).toEqual(['backend-b']);
    } finally {
      await supervisor.stop();
    }
  });
});
