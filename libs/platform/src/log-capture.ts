import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from './logger.js';

export interface CapturedLogger {
  logger: Logger;
  /** Every line written so far, parsed from the JSON the real format produced. */
  lines(): Record<string, unknown>[];
  /** The raw text written, for "this secret never appears" assertions. */
  text(): string;
}

/** A real logger (same format as production) writing into memory, for tests that assert what was logged. */
export function captureLogger(service: string, level = 'debug'): CapturedLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ service, level, transports: [new winston.transports.Stream({ stream })] });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => chunks.join(''),
  };
}
