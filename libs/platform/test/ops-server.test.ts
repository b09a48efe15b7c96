import { createOpsServer, Health, createMetrics, captureLogger } from '../src/index.js';

describe('ops server', () => {
  const health = new Health();
  let failing = false;
  health.addReadinessCheck('postgres', async () => {
    if (failing) throw new Error('connection refused');
  });
  const metrics = createMetrics({ service: 'ops-test' });
  const server = createOpsServer({
    port: 0,
    host: '127.0.0.1',
    health,
    metrics,
    logger: captureLogger('ops-test').logger,
  });
  let base = '';

  beforeAll(async () => {
    base = `http://127.0.0.1:${await server.start()}`;
  });
  afterAll(() => server.stop());

  it('When /healthz is probed, then it answers 200 while the process runs', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('When a dependency fails, then /readyz answers 503 naming the failed check, and 200 once it recovers', async () => {
    failing = true;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { checks: Record<string, unknown> };
    expect(body.checks.postgres).toMatchObject({ ok: false, error: 'connection refused' });
    failing = false;
    const up = await fetch(`${base}/readyz`);
    expect(up.status).toBe(200);
    expect(((await up.json()) as { ready: boolean }).ready).toBe(true);
  });

  it('When /metrics is scraped, then it serves the Prometheus text format', async () => {
    metrics.grpcServerDuration.observe(
      { service: 'te.user.v1.UserService', method: 'GetUser', code: 'OK' },
      0.002,
    );
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain(
      'grpc_server_handling_seconds_count{service="te.user.v1.UserService",method="GetUser",code="OK"} 1',
    );
  });

  it('When an unknown path is requested, then it answers 404', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
