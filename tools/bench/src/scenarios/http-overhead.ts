import { freePort } from '@te/testing';
import { httpLoad } from '../load.js';
import { startHelperServer } from '../processes.js';
import { loadRows, type Scenario } from '../scenario.js';

/**
 * 1. The gateway's HTTP stack with no I/O behind it, against raw node:http in its own process.
 * `/healthz` is answered by the probe handler, first in the chain (before telemetry, helmet, cors);
 * an unknown path outside /api runs the whole chain: request context, telemetry span, RED metric and
 * access-log line, helmet, cors, the JSON parser, every router, 404, the error handler's envelope
 * (no rate limit: only /api/v1 and /v1 are limited, and those cost a Redis round trip).
 */
export const httpOverhead: Scenario = {
  id: 1,
  title: 'HTTP stack: raw node:http vs the gateway',
  async run({ stack, load, log }) {
    await stack.ensure(['api-gateway']);
    const port = await freePort();
    const hello = await startHelperServer('hello-world', port);
    try {
      log('1: node:http hello world');
      const baseline = await httpLoad(`http://127.0.0.1:${port}/`, load);
      log('1: gateway GET /healthz');
      const healthz = await httpLoad(stack.gatewayUrl('/healthz'), load);
      log('1: gateway GET /bench-unknown (404, full middleware chain)');
      const notFound = await httpLoad(stack.gatewayUrl('/bench-unknown'), load, {}, 404);
      return [
        ...loadRows('1a hello world → gateway /healthz', baseline, healthz),
        ...loadRows('1b hello world → gateway full chain (404 envelope)', baseline, notFound),
      ];
    } finally {
      await hello.stop();
    }
  },
};
