import { createMetrics } from './metrics.js';

describe('createMetrics', () => {
  it('When two services build metrics in one process, then their registries are separate and complete', async () => {
    const a = createMetrics({ service: 'a' });
    const b = createMetrics({ service: 'b', defaultMetrics: false });
    a.httpRequestDuration.observe({ method: 'GET', route: '/x', status_code: '200' }, 0.01);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(textA).toContain(
      'http_server_request_duration_seconds_count{method="GET",route="/x",status_code="200"} 1',
    );
    expect(textA).toContain('process_cpu_user_seconds_total');
    for (const name of [
      'grpc_server_handling_seconds',
      'grpc_client_handling_seconds',
      'amqp_messages_published_total',
      'amqp_message_processing_seconds',
      'scheduled_job_duration_seconds',
    ]) {
      expect(textB).toContain(`# TYPE ${name}`);
    }
    expect(textB).not.toContain('process_cpu_user_seconds_total');
    expect(textB).not.toContain('route="/x"');
  });
});
