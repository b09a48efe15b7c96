import { InterceptingCall, status as Status, type Interceptor } from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';
import {
  SpanKind,
  SpanStatusCode,
  getRequestContext,
  injectTraceContext,
  tracer,
  type Logger,
  type Metrics,
} from '@te/platform';
import { inboundDeadline } from './call-context.js';
import { grpcStatusName } from './error-mapping.js';
import { writeCallMetadata } from './metadata.js';
import { parseMethodPath } from './method-path.js';

export interface ClientInterceptorOptions {
  logger: Logger;
  metrics: Metrics;
  /** Deadline of calls that set none. */
  deadlineMs: number;
}

/**
 * Every outgoing call: a client span (child of the active one) whose context travels as
 * traceparent/tracestate; x-request-id and x-te-principal from the request being handled; a deadline
 * (the call's own, else `deadlineMs`, never later than the deadline of the call being handled);
 * the grpc_client_handling_seconds metric.
 */
export function clientInterceptor(options: ClientInterceptorOptions): Interceptor {
  return (callOptions, nextCall) => {
    const started = performance.now();
    const name = parseMethodPath(callOptions.method_definition.path);
    const deadline = earliest(callOptions.deadline ?? Date.now() + options.deadlineMs, inboundDeadline());
    const request = getRequestContext();
    const span = tracer().startSpan(
      `${name.service}/${name.method}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'grpc', 'rpc.service': name.service, 'rpc.method': name.method },
      },
      context.active(),
    );

    return new InterceptingCall(nextCall({ ...callOptions, deadline }), {
      start(metadata, listener, next) {
        const carrier: Record<string, string> = {};
        injectTraceContext(carrier, trace.setSpan(context.active(), span));
        writeCallMetadata(metadata, {
          requestId: request?.requestId,
          principal: request?.principal,
          client: request?.client,
          trace: carrier,
        });
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            const code = grpcStatusName(status.code);
            options.metrics.grpcClientDuration.observe(
              { service: name.service, method: name.method, code },
              (performance.now() - started) / 1000,
            );
            span.setAttribute('rpc.grpc.status_code', status.code);
            if (status.code !== Status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
            span.end();
            options.logger.debug('gRPC call made', {
              grpc_service: name.service,
              grpc_method: name.method,
              grpc_code: code,
              duration_ms: Math.round((performance.now() - started) * 10) / 10,
            });
            nextStatus(status);
          },
        });
      },
    });
  };
}

function earliest(own: Date | number, inbound: Date | undefined): Date | number {
  if (!inbound) return own;
  const ownMs = own instanceof Date ? own.getTime() : own;
  return inbound.getTime() < ownMs ? inbound : own;
}
