import type { Request, RequestHandler } from 'express';
import { context, trace } from '@opentelemetry/api';
import {
  extractTraceContext,
  getRequestContext,
  SpanKind,
  SpanStatusCode,
  tracer,
  type Logger,
  type Metrics,
} from '@te/platform';

/**
 * One server span, one RED sample and one access-log line per request. The route label is the
 * matched route template (`/api/v1/users/:id`), never the raw path, so metric cardinality stays bounded.
 */
export function observability(deps: { logger: Logger; metrics: Metrics }): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    // Routers rewrite req.url and req.baseUrl while they run; keep what the client asked for.
    const path = req.path;
    const parent = extractTraceContext(req.headers);
    const span = tracer().startSpan(
      `${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    res.once('finish', () => {
      const route = routeTemplate(req, res.locals);
      const status = res.statusCode;
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.httpRequestDuration.observe(
        { method: req.method, route, status_code: String(status) },
        seconds,
      );
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      context.with(trace.setSpan(parent, span), () =>
        deps.logger.log(status >= 500 ? 'error' : 'info', 'request', {
          method: req.method,
          path,
          route,
          status,
          duration_ms: Math.round(seconds * 10_000) / 10,
          user_id: getRequestContext()?.principal?.userId,
        }),
      );
    });
    context.with(trace.setSpan(parent, span), () => next());
  };
}

/**
 * Mount routers through this so the route label keeps its mount path: by the time the response
 * finishes (and in the app-level error handler) Express has already restored `req.baseUrl`.
 */
export function recordRouteBase(): RequestHandler {
  return (req, res, next) => {
    res.locals.routeBase = req.baseUrl;
    next();
  };
}

function routeTemplate(req: Request, locals: Record<string, unknown>): string {
  const path = req.route?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${typeof locals.routeBase === 'string' ? locals.routeBase : req.baseUrl}${path}`;
}
