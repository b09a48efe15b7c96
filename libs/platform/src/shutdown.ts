import { ConfigError } from './config.js';
import type { Health } from './health.js';
import type { Logger } from './logger.js';

export type CloseStep = [name: string, close: () => Promise<void>];

/**
 * Closes resources one after the other in the given order (stop accepting work → drain in-flight work →
 * close connections). A failing step is logged and the next one still runs.
 */
export async function closeInOrder(logger: Logger, steps: CloseStep[]): Promise<void> {
  for (const [name, close] of steps) {
    const started = Date.now();
    try {
      await close();
      logger.debug('closed', { step: name, duration_ms: Date.now() - started });
    } catch (error) {
      logger.error('close step failed', { step: name, err: error });
    }
  }
}

export interface ShutdownOptions {
  logger: Logger;
  health: Health;
  /** Stops the service; resolves when everything is closed. */
  stop: () => Promise<void>;
  /** Hard limit: past it the process exits with status 1 whatever is still running. */
  graceMs: number;
  /** How long readiness reports failure before anything closes, so load balancers stop routing first. */
  drainDelayMs: number;
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/**
 * SIGTERM/SIGINT: readiness fails → wait drainDelayMs → stop() → exit 0; exit 1 past graceMs or when
 * stop() throws. A second signal exits at once. Returns the shutdown function for direct use.
 */
export function installShutdownHandlers(options: ShutdownOptions): (reason: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { logger } = options;
  let stopping: Promise<void> | undefined;

  const shutdown = (reason: string): Promise<void> => {
    if (stopping) return stopping;
    logger.info('shutting down', { reason, grace_ms: options.graceMs, drain_delay_ms: options.drainDelayMs });
    options.health.markShuttingDown();
    const forced = setTimeout(() => {
      logger.error('graceful shutdown exceeded its grace period; exiting', { grace_ms: options.graceMs });
      exit(1);
    }, options.graceMs);
    forced.unref();
    stopping = (async () => {
      try {
        await delay(options.drainDelayMs);
        await options.stop();
        clearTimeout(forced);
        logger.info('stopped', { reason });
        exit(0);
      } catch (error) {
        clearTimeout(forced);
        logger.error('shutdown failed', { err: error });
        exit(1);
      }
    })();
    return stopping;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      if (stopping) {
        logger.warn('second signal: exiting now', { signal });
        exit(1);
        return;
      }
      void shutdown(signal);
    });
  }
  return shutdown;
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * The last word of a process that could not start: one JSON line (secrets redacted by the logger's
 * format) or, for configuration errors, the list of bad variables. Exits with status 1.
 */
export function exitOnStartupFailure(logger: Logger | undefined, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else if (logger) {
    logger.error('start-up failed', { err: error });
  } else {
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
