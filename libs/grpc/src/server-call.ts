import { status as Status, type Deadline, type Metadata, type StatusObject } from '@grpc/grpc-js';
import {
  AppError,
  SpanKind,
  SpanStatusCode,
  extractTraceContext,
  runWithRequestContext,
  withSpan,
  type Logger,
  type Metrics,
  type Principal,
  type Span,
} from '@te/platform';
import { runInInboundCall, type CallContext } from './call-context.js';
import { grpcStatusName, toGrpcStatus } from './error-mapping.js';
import { readClientInfo, readPrincipal, readRequestId, readTraceCarrier } from './metadata.js';
import { parseMethodPath, type MethodName } from './method-path.js';

export interface ServerCallDeps {
  logger: Logger;
  metrics: Metrics;
  /** Recognises failures of shared infrastructure (e.g. the database unreachable) as their AppError. */
  classifyError?: (error: unknown) => AppError | undefined;
}

/** What every kind of server call (unary, server streaming) exposes to the shared wrapper. */
export interface InboundCall {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  getPath(): string;
  getDeadline(): Deadline;
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

export type CallOutcome<T> = { ok: true; value: T } | { ok: false; status: StatusObject; error: AppError };

// Server-side failures (OpenTelemetry gRPC semantic conventions): the span is marked as an error only
// for these; NOT_FOUND and friends are the service working as designed.
const SERVER_FAULTS = new Set<number>([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/** Extra fields for the call's log line and span (e.g. `messages_sent` of a stream), set while it runs. */
export type CallAnnotations = Record<string, string | number>;

/**
 * Runs `fn` as the handling of one call: request context (request id, principal), a server span
 * whose parent is the caller's traceparent, the inbound deadline for outgoing calls, error mapping,
 * logging and the duration metric (once per call, with the status the caller saw). Never rejects:
 * failures come back as a status to send. A call the caller cancelled (or whose deadline passed) is
 * logged as such, whatever `fn` did afterwards: grpc-js has already sent its status.
 */
export async function runServerCall<T>(
  call: InboundCall,
  deps: ServerCallDeps,
  fn: (ctx: CallContext, annotations: CallAnnotations) => Promise<T>,
): Promise<CallOutcome<T>> {
  const started = performance.now();
  const name = parseMethodPath(call.getPath());
  const requestId = readRequestId(call.metadata);
  let principal: Principal | undefined;
  let rejected: AppError | undefined;
  try {
    principal = readPrincipal(call.metadata);
  } catch (error) {
    rejected = new AppError('UNAUTHENTICATED', (error as Error).message);
  }
  const deadline = toDate(call.getDeadline());
  const abort = new AbortController();
  const onCancelled = () => abort.abort(new Error('gRPC call cancelled'));
  call.once('cancelled', onCancelled);
  const client = readClientInfo(call.metadata);
  const ctx: CallContext = {
    requestId,
    principal,
    client,
    deadline,
    metadata: call.metadata,
    signal: abort.signal,
  };
  const parent = extractTraceContext(readTraceCarrier(call.metadata));
  const attributes = { 'rpc.system': 'grpc', 'rpc.service': name.service, 'rpc.method': name.method };
  const annotations: CallAnnotations = {};
  const abandoned = () => (call.cancelled ? abandonedCode(deadline) : undefined);

  const outcome = await runWithRequestContext({ requestId, principal, client }, () =>
    runInInboundCall({ deadline }, () =>
      withSpan(
        `${name.service}/${name.method}`,
        attributes,
        async (span): Promise<CallOutcome<T>> => {
          try {
            if (rejected) throw rejected;
            const value = await fn(ctx, annotations);
            const code = abandoned() ?? Status.OK;
            span.setAttributes({ ...annotations, 'rpc.grpc.status_code': code });
            deps.logger.info(code === Status.OK ? 'gRPC call handled' : 'gRPC call abandoned by the caller', {
              ...logFields(name),
              ...annotations,
              code: grpcStatusName(code),
              duration_ms: elapsedMs(started),
            });
            return { ok: true, value };
          } catch (thrown) {
            span.setAttributes(annotations);
            const code = abandoned();
            if (code !== undefined) {
              // What the handler threw after the caller left (usually ctx.signal's abort) is no failure.
              span.setAttribute('rpc.grpc.status_code', code);
              deps.logger.info('gRPC call abandoned by the caller', {
                ...logFields(name),
                ...annotations,
                code: grpcStatusName(code),
                duration_ms: elapsedMs(started),
              });
            }
            return failed(
              deps.classifyError?.(thrown) ?? thrown,
              span,
              name,
              code === undefined ? deps.logger : undefined,
              started,
              annotations,
            );
          }
        },
        { kind: SpanKind.SERVER, parent },
      ),
    ),
  );
  call.removeListener('cancelled', onCancelled);

  // A cancelled call's status was already sent by grpc-js; record what the caller actually saw.
  const code = abandoned() ?? (outcome.ok ? Status.OK : outcome.status.code);
  deps.metrics.grpcServerDuration.observe(
    { service: name.service, method: name.method, code: grpcStatusName(code) },
    (performance.now() - started) / 1000,
  );
  return outcome;
}

function abandonedCode(deadline: Date | undefined): number {
  return deadline && Date.now() >= deadline.getTime() ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
}

/** The status for what the handler threw; logged and recorded on the span unless `logger` is omitted. */
function failed<T>(
  thrown: unknown,
  span: Span,
  name: MethodName,
  logger: Logger | undefined,
  started: number,
  annotations: CallAnnotations,
): CallOutcome<T> {
  const error = AppError.from(thrown);
  const status = toGrpcStatus(error);
  if (!logger) return { ok: false, status, error };
  span.setAttribute('rpc.grpc.status_code', status.code);
  const fields = {
    ...logFields(name),
    ...annotations,
    grpc_code: grpcStatusName(status.code),
    error_code: error.code,
  };
  if (error.isInternal) {
    // The only place an internal failure's real message and stack are kept: the log, never the wire.
    const original = thrown instanceof Error ? thrown : new Error(String(thrown));
    span.recordException(original);
    logger.error('gRPC call failed', {
      ...fields,
      duration_ms: elapsedMs(started),
      error_message: original.message,
      stack: original.stack,
    });
  } else {
    logger.info('gRPC call rejected', {
      ...fields,
      duration_ms: elapsedMs(started),
      error_message: error.message,
    });
  }
  if (SERVER_FAULTS.has(status.code)) span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
  return { ok: false, status, error };
}

function logFields(name: MethodName) {
  return { grpc_service: name.service, grpc_method: name.method };
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function toDate(deadline: Deadline): Date | undefined {
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}
