import { drainDelayMs, type CommonConfig } from './config.js';
import type { Health } from './health.js';
import { createLogger, type Logger } from './logger.js';
import { exitOnStartupFailure, installShutdownHandlers } from './shutdown.js';
import { startTracing } from './tracing.js';

export interface RunnableApp {
  readonly health: Health;
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface RunServiceOptions<C extends CommonConfig & { SERVICE_NAME: string }, A extends RunnableApp> {
  loadConfig: () => C;
  createApp: (config: C, deps: { logger: Logger }) => A;
}

/**
 * What every service's main.ts does, in order: load and validate config → logger → telemetry →
 * build the app → install SIGTERM handling → start. A failure before the app runs exits with 1.
 */
export function runService<C extends CommonConfig & { SERVICE_NAME: string }, A extends RunnableApp>(
  options: RunServiceOptions<C, A>,
): void {
  let logger: Logger | undefined;
  const run = async () => {
    const config = options.loadConfig();
    logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
    const tracing = startTracing({
      service: config.SERVICE_NAME,
      version: config.SERVICE_VERSION,
      otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    });
    const app = options.createApp(config, { logger });
    installShutdownHandlers({
      logger,
      health: app.health,
      graceMs: config.SHUTDOWN_GRACE_MS,
      drainDelayMs: drainDelayMs(config),
      stop: async () => {
        await app.stop();
        await tracing.shutdown();
      },
    });
    await app.start();
  };
  run().catch((error: unknown) => exitOnStartupFailure(logger, error));
}
