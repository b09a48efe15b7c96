import { Health } from './health.js';

describe('Health', () => {
  it('When every check passes, then the service is ready with each check reported', async () => {
    const health = new Health();
    health.addReadinessCheck('postgres', async () => undefined);
    health.addReadinessCheck('redis', async () => undefined);
    const report = await health.readiness();
    expect(report.ready).toBe(true);
    expect(Object.keys(report.checks)).toEqual(['postgres', 'redis']);
  });

  it('When one check fails, then the service is not ready and the error is named', async () => {
    const health = new Health();
    health.addReadinessCheck('postgres', async () => undefined);
    health.addReadinessCheck('rabbitmq', async () => {
      throw new Error('connection closed');
    });
    const report = await health.readiness();
    expect(report.ready).toBe(false);
    expect(report.checks.rabbitmq).toMatchObject({ ok: false, error: 'connection closed' });
    expect(report.checks.postgres.ok).toBe(true);
  });

  it('When a non-critical check fails, then it is reported but the service stays ready', async () => {
    const health = new Health();
    health.addReadinessCheck('signing-keys', async () => undefined);
    health.addReadinessCheck(
      'user-service',
      async () => {
        throw new Error('unavailable');
      },
      { critical: false },
    );
    const report = await health.readiness();
    expect(report.ready).toBe(true);
    expect(report.checks['user-service']).toMatchObject({ ok: false, critical: false, error: 'unavailable' });
  });

  it('When a check hangs, then it fails after its timeout instead of hanging the probe', async () => {
    const health = new Health();
    health.addReadinessCheck('stuck', () => new Promise(() => undefined), { timeoutMs: 50 });
    const report = await health.readiness();
    expect(report.checks.stuck).toMatchObject({ ok: false, error: 'timed out after 50 ms' });
  });

  it('When shutting down, then readiness fails even though dependencies are fine', async () => {
    const health = new Health();
    health.addReadinessCheck('postgres', async () => undefined);
    health.markShuttingDown();
    const report = await health.readiness();
    expect(report.ready).toBe(false);
    expect(health.shuttingDown).toBe(true);
    expect(report.checks.shutdown.ok).toBe(false);
  });
});
