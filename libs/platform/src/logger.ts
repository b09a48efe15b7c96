import winston from 'winston';
import { getRequestContext } from './request-context.js';
import { isSecretKey, redact, REDACTED } from './redact.js';
import { currentTraceIds } from './tracing.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Tests silence the output but keep the logger (and its transports) real. */
  silent?: boolean;
  /** Extra transports (tests capture lines with a stream transport). */
  transports?: winston.transport[];
}

// Adds the correlation fields every line must carry, from AsyncLocalStorage and the active span.
const correlation = winston.format((info) => {
  const context = getRequestContext();
  const { traceId, spanId } = currentTraceIds();
  if (context?.requestId && info.request_id === undefined) info.request_id = context.requestId;
  if (traceId && info.trace_id === undefined) info.trace_id = traceId;
  if (spanId && info.span_id === undefined) info.span_id = spanId;
  return info;
});

// Runs last before JSON: scrubs secrets from every field, including the message.
const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = isSecretKey(key) && info[key] != null ? REDACTED : redact(info[key]);
  }
  return info;
});

/** JSON lines on stdout: timestamp, level, message, service, request_id, trace_id, span_id and meta. */
export function createLogger(options: LoggerOptions): Logger {
  const transports = options.transports ?? [new winston.transports.Console()];
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent,
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      correlation(),
      redaction(),
      winston.format.json(),
    ),
    transports,
  });
}
