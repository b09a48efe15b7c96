import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTracing, withSpan } from '../src/index.js';

describe('OTLP trace export', () => {
  it('When OTEL_EXPORTER_OTLP_ENDPOINT is set, then finished spans reach the collector over OTLP/HTTP', async () => {
    const received: { path?: string; contentType?: string; body: string }[] = [];
    // A loopback collector: accepts OTLP/HTTP exports like the OpenTelemetry Collector does.
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          path: req.url,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

    const tracing = startTracing({ service: 'otlp-test-service', version: '9.9.9', otlpEndpoint: endpoint });
    let traceId = '';
    await withSpan('export-me', { 'te.test': 'yes' }, async (span) => {
      traceId = span.spanContext().traceId;
    });
    await tracing.shutdown(); // flushes the batch processor

    await new Promise<void>((resolve) => collector.close(() => resolve()));
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/v1/traces');
    expect(received[0].contentType).toContain('application/json');
    const payload = received[0].body;
    expect(payload).toContain('otlp-test-service');
    expect(payload).toContain('export-me');
    expect(payload).toContain(traceId);
  });
});
