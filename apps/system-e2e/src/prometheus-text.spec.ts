import { hasMetric, parsePrometheusText, sampleValue } from './prometheus-text.js';

const TEXT = `# HELP grpc_server_handling_seconds Duration of gRPC calls handled
# TYPE grpc_server_handling_seconds histogram
grpc_server_handling_seconds_bucket{le="0.1",service="te.user.v1.UserService",method="Register",code="OK"} 1
grpc_server_handling_seconds_count{service="te.user.v1.UserService",method="Register",code="OK"} 2
grpc_server_handling_seconds_count{service="te.user.v1.UserService",method="Login",code="OK"} 3
grpc_server_handling_seconds_count{service="te.user.v1.UserService",method="Register",code="ALREADY_EXISTS"} 1
process_cpu_user_seconds_total 0.52 1700000000000
odd_label{path="a \\"quoted\\" \\\\ value"} 7
`;

describe('parsePrometheusText', () => {
  const samples = parsePrometheusText(TEXT);

  it('When a sample has labels, then each label is parsed (escapes included)', () => {
    expect(samples.find((s) => s.name === 'odd_label')?.labels).toEqual({ path: 'a "quoted" \\ value' });
  });

  it('When a sample has a timestamp, then the value is still read', () => {
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBe(0.52);
  });

  it('When several samples match a label subset, then sampleValue sums them', () => {
    expect(sampleValue(samples, 'grpc_server_handling_seconds_count', { method: 'Register' })).toBe(3);
    expect(
      sampleValue(samples, 'grpc_server_handling_seconds_count', { method: 'Register', code: 'OK' }),
    ).toBe(2);
    expect(sampleValue(samples, 'grpc_server_handling_seconds_count', { method: 'GetUser' })).toBe(0);
  });

  it('When a histogram is exposed, then hasMetric finds it by its family name', () => {
    expect(hasMetric(samples, 'grpc_server_handling_seconds')).toBe(true);
    expect(hasMetric(samples, 'http_server_request_duration_seconds')).toBe(false);
  });
});
