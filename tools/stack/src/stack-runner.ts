import { maskUrl } from '@te/prisma-migrate';
import { formatBanner } from './banner.js';
import { prepareDatabases, type DatabaseTarget } from './databases/prepare-databases.js';
import {
  addressOf,
  checkInfrastructure,
  formatInfrastructureFailure,
  infrastructureTargets,
  type InfrastructureTarget,
} from './infrastructure/infrastructure-check.js';
import { shouldUseColour } from './logs/colours.js';
import { createLogLabeller, type LogLabeller } from './logs/log-labeller.js';
import { missingEntries, portsInUse } from './preflight.js';
import type { StackService } from './service-catalog.js';
import type { StackConfig } from './stack-config.js';
import { describeExit, exitedCleanly, type ExitReport } from './supervisor/exit-report.js';
import { ProcessSupervisor, StartupError, type ChildSpec } from './supervisor/process-supervisor.js';

export interface StackIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** Ctrl-C, a polite kill, and the terminal closing (the services are not in its process group). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** Where stop requests come from; `process` by default. */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

export interface RunStackOptions {
  config: StackConfig;
  services: StackService[];
  io?: StackIo;
  signals?: SignalSource;
  /** Defaults to PostgreSQL, Redis and RabbitMQ at the configured URLs. */
  infrastructure?: InfrastructureTarget[];
  /** Called once every service is ready (tests use it to act on the running stack). */
  onReady?: () => void;
}

/** Signals closer together than this are one request to stop. */
const REPEATED_SIGNAL_WINDOW_MS = 1_000;

type StopReason = { kind: 'signal'; signal: string } | { kind: 'failed' };

/**
 * `npm start` after the build, as named steps: check the build → check the infrastructure → prepare
 * the databases → start the services (backends, then the gateway) → run until Ctrl-C/SIGTERM or a
 * crash → stop them in reverse. Resolves with the process exit code.
 */
export async function runStack(options: RunStackOptions): Promise<number> {
  const io = options.io ?? { stdout: process.stdout, stderr: process.stderr, env: process.env };
  const { config, services } = options;
  const colour = shouldUseColour(io.stdout, io.env);
  const labeller = createLogLabeller({
    names: ['stack', ...services.map((service) => service.name)],
    colour,
    pretty: config.prettyLogs ?? io.stdout.isTTY === true,
  });
  const say = (line: string): void => void io.stdout.write(`${labeller.format('stack', line)}\n`);
  const complain = (line: string): void => void io.stderr.write(`${labeller.format('stack', line)}\n`);

  if (!checkBuild(services, config, complain)) return 1;
  if (
    !(await checkInfrastructureStep(
      options.infrastructure ?? infrastructureTargets(config),
      config,
      say,
      complain,
    ))
  )
    return 1;
  if (!(await prepareDatabasesStep(services, say, complain))) return 1;
  if (!(await checkPorts(services, complain))) return 1;
  return startAndSupervise(options, io, labeller, say, complain);
}

function checkBuild(
  services: StackService[],
  config: StackConfig,
  complain: (line: string) => void,
): boolean {
  const missing = missingEntries(services, config.rootDir);
  if (missing.length === 0) return true;
  complain(`Not built: ${missing.join(', ')}. Run \`npm run build\` first (\`npm start\` does).`);
  return false;
}

async function checkInfrastructureStep(
  targets: InfrastructureTarget[],
  config: StackConfig,
  say: (line: string) => void,
  complain: (line: string) => void,
): Promise<boolean> {
  const results = await checkInfrastructure(targets, config.infraTimeoutMs);
  for (const result of results.filter((r) => r.ok)) {
    say(`${result.target.name.padEnd(10)} ${addressOf(result.target.url)} ok (${result.durationMs} ms)`);
  }
  if (results.every((result) => result.ok)) return true;
  for (const line of formatInfrastructureFailure(results).split('\n')) complain(line);
  return false;
}

async function prepareDatabasesStep(
  services: StackService[],
  say: (line: string) => void,
  complain: (line: string) => void,
): Promise<boolean> {
  const targets: DatabaseTarget[] = services.flatMap((s) =>
    s.database ? [{ service: s.name, database: s.database }] : [],
  );
  const outcomes = await prepareDatabases(targets, (outcome) => {
    const line = `${outcome.service}: database ${outcome.database} ${outcome.ok ? outcome.summary : `FAILED: ${outcome.summary}`}`;
    if (outcome.ok) return say(line);
    complain(line);
    for (const detail of outcome.details) complain(`  ${detail}`);
    const target = targets.find((t) => t.service === outcome.service);
    if (target) complain(`  (schema ${target.database.schemaPath}, url ${maskUrl(target.database.url)})`);
  });
  return outcomes.every((outcome) => outcome.ok);
}

async function checkPorts(services: StackService[], complain: (line: string) => void): Promise<boolean> {
  const busy = await portsInUse(services.flatMap((service) => service.ports));
  if (busy.length === 0) return true;
  complain(
    `Port(s) already in use: ${busy.join(', ')}. Is another \`npm start\` (or a service) still running?`,
  );
  complain(`Find it with: ss -ltnp | grep -E ':(${busy.join('|')})\\b'`);
  return false;
}

async function startAndSupervise(
  options: RunStackOptions,
  io: StackIo,
  labeller: LogLabeller,
  say: (line: string) => void,
  complain: (line: string) => void,
): Promise<number> {
  const { config } = options;
  const signals = options.signals ?? process;
  let resolveStop: (reason: StopReason) => void = () => undefined;
  const stopRequested = new Promise<StopReason>((resolve) => (resolveStop = resolve));
  let stopping = false;
  const requestStop = (reason: StopReason): void => {
    stopping = true;
    resolveStop(reason);
  };

  const supervisor = new ProcessSupervisor({
    write: (line, stream) => void (stream === 'stdout' ? io.stdout : io.stderr).write(`${line}\n`),
    format: (name, line) => labeller.format(name, line),
    readyTimeoutMs: config.readyTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    onUnexpectedExit: (report) => {
      if (stopping) return;
      complain(`${report.name} stopped unexpectedly (${describeExit(report)}); stopping the others.`);
      requestStop({ kind: 'failed' });
    },
  });
  let lastSignalAt = 0;
  const onSignal = (signal: StopSignal) => () => {
    // One Ctrl-C can arrive twice: from the terminal and forwarded by `npm start`.
    if (Date.now() - lastSignalAt < REPEATED_SIGNAL_WINDOW_MS) return;
    lastSignalAt = Date.now();
    if (!stopping) return requestStop({ kind: 'signal', signal });
    complain(`${signal} again: killing ${supervisor.running().join(', ') || 'nothing'}.`);
    supervisor.kill();
  };
  const listeners = STOP_SIGNALS.map((signal) => [signal, onSignal(signal)] as const);
  for (const [signal, listener] of listeners) signals.on(signal, listener);

  const startup = startInWaves(supervisor, options, io, labeller, say)
    .then(() => options.onReady?.())
    .catch((error: unknown) => {
      if (stopping) return;
      reportStartupFailure(error, io, complain);
      requestStop({ kind: 'failed' });
    });

  const reason = await stopRequested;
  say(
    reason.kind === 'signal'
      ? `${reason.signal} received: stopping ${supervisor.running().join(', ') || 'nothing'} (again to kill) ...`
      : `Stopping ${supervisor.running().join(', ') || 'nothing'} ...`,
  );
  const reports = await supervisor.stop();
  await startup;
  for (const [signal, listener] of listeners) signals.off(signal, listener);
  return reportExits(reports, reason, say, complain);
}

/** Every backend at once, then the gateway once they are ready; then the banner. */
async function startInWaves(
  supervisor: ProcessSupervisor,
  options: RunStackOptions,
  io: StackIo,
  labeller: LogLabeller,
  say: (line: string) => void,
): Promise<void> {
  const { config, services } = options;
  const toSpec = (service: StackService): ChildSpec => ({
    name: service.name,
    command: process.execPath,
    args: [service.entry],
    cwd: config.rootDir,
    env: { ...io.env, ...service.env },
    readyUrl: service.readyUrl,
  });
  for (const tier of ['backend', 'gateway'] as const) {
    const wave = services.filter((service) => service.tier === tier);
    if (wave.length === 0) continue;
    say(`Starting ${wave.map((service) => service.name).join(', ')} ...`);
    await supervisor.startWave(wave.map(toSpec));
    say(`Ready: ${wave.map((service) => service.name).join(', ')}`);
  }
  for (const line of formatBanner(labeller.paint).split('\n')) say(line);
}

function reportStartupFailure(error: unknown, io: StackIo, complain: (line: string) => void): void {
  if (!(error instanceof StartupError)) {
    complain(
      `Unexpected error while starting: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return;
  }
  for (const failure of error.failures) {
    complain(`${failure.name} did not start: ${failure.reason}`);
    if (failure.tail.length === 0) continue;
    complain(`Last lines of ${failure.name}:`);
    for (const line of failure.tail) io.stderr.write(`    ${line}\n`);
  }
}

function reportExits(
  reports: ExitReport[],
  reason: StopReason,
  say: (line: string) => void,
  complain: (line: string) => void,
): number {
  for (const report of reports) {
    (exitedCleanly(report) ? say : complain)(`${report.name}: ${describeExit(report)}`);
  }
  const clean = reports.every(exitedCleanly);
  if (reason.kind === 'signal' && clean) {
    say('All services stopped.');
    return 0;
  }
  complain(reason.kind === 'signal' ? 'Some services did not stop cleanly.' : 'The stack failed; see above.');
  return 1;
}
