// @te/stack: what `npm start` runs. The entry point is main.ts; this is its API for tests and tools.
export { formatBanner } from './banner.js';
export {
  prepareDatabases,
  type DatabaseOutcome,
  type DatabaseTarget,
} from './databases/prepare-databases.js';
export {
  addressOf,
  checkInfrastructure,
  formatInfrastructureFailure,
  infrastructureTargets,
  type InfrastructureResult,
  type InfrastructureTarget,
} from './infrastructure/infrastructure-check.js';
export { probePostgres, probeRabbitMq, probeRedis, type Probe } from './infrastructure/probes.js';
export { createPaint, shouldUseColour, type Paint } from './logs/colours.js';
export { createLogLabeller, prettyJsonLine, type LogLabeller } from './logs/log-labeller.js';
export { missingEntries, portsInUse } from './preflight.js';
export {
  addressVariable,
  GATEWAY,
  GATEWAY_API_URL,
  stackServices,
  type StackService,
} from './service-catalog.js';
export { DEFAULTS, loadStackConfig, StackConfigError, type StackConfig } from './stack-config.js';
export { runStack, type RunStackOptions, type SignalSource, type StackIo } from './stack-runner.js';
export { describeExit, exitedCleanly, type ExitReport } from './supervisor/exit-report.js';
export {
  ProcessSupervisor,
  StartupError,
  type ChildSpec,
  type StartFailure,
  type SupervisorOptions,
} from './supervisor/process-supervisor.js';
