import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health } from './health.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface OpsServerOptions {
  port: number;
  host?: string;
  health: Health;
  metrics: Metrics;
  logger: Logger;
}

export interface OpsServer {
  /** Resolves with the bound port (port 0 picks a free one). */
  start(): Promise<number>;
  stop(): Promise<void>;
}

type OpsHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

/**
 * Answers /healthz, /readyz and (optionally) /metrics; resolves false for any other path so a caller
 * can mount it in front of its own routes. `detailed` includes each check's error (internal port only).
 */
export function createOpsHandler(options: {
  health: Health;
  metrics?: Metrics;
  detailed?: boolean;
}): OpsHandler {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      return true;
    }
    if (path === '/readyz') {
      const report = await options.health.readiness();
      const body = options.detailed ? report : { ready: report.ready };
      send(res, report.ready ? 200 : 503, 'application/json', JSON.stringify(body));
      return true;
    }
    if (path === '/metrics' && options.metrics) {
      const { registry } = options.metrics;
      send(res, 200, registry.contentType, await registry.metrics());
      return true;
    }
    return false;
  };
}

export function createOpsServer(options: OpsServerOptions): OpsServer {
  const handle = createOpsHandler({ health: options.health, metrics: options.metrics, detailed: true });
  const server = http.createServer((req, res) => {
    handle(req, res)
      .then((handled) => {
        if (!handled) send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
      })
      .catch((error: unknown) => {
        options.logger.error('ops endpoint failed', { err: error, path: req.url });
        if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal' }));
      });
  });
  // Probes must not hold connections open and delay shutdown.
  server.keepAliveTimeout = 1_000;
  return {
    start: () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host ?? '0.0.0.0', () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
