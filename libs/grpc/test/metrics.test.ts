import { AppError } from '@te/platform';
import { callUnary } from '../src/index.js';
import { startUserService, type Harness } from './support.js';

describe('gRPC metrics', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness?.close();
  });

  it('When calls succeed and fail, then server and client histograms count them by service, method and code', async () => {
    harness = await startUserService({
      async GetUser() {
        throw new AppError('NOT_FOUND', 'User not found');
      },
    });

    await callUnary(harness.client, 'GetJwks', {});
    await callUnary(harness.client, 'GetJwks', {});
    await expect(callUnary(harness.client, 'GetUser', { id: 'x' })).rejects.toBeInstanceOf(AppError);

    const counts = async (histogram: Harness['metrics']['grpcServerDuration']) => {
      const metric = await histogram.get();
      return metric.values
        .filter((value) => value.metricName === `${metric.name}_count`)
        .map((value) => ({ ...value.labels, count: value.value }));
    };
    for (const histogram of [harness.metrics.grpcServerDuration, harness.metrics.grpcClientDuration]) {
      expect(await counts(histogram)).toEqual(
        expect.arrayContaining([
          { service: 'te.user.v1.UserService', method: 'GetJwks', code: 'OK', count: 2 },
          { service: 'te.user.v1.UserService', method: 'GetUser', code: 'NOT_FOUND', count: 1 },
        ]),
      );
    }
    const exposed = await harness.metrics.registry.metrics();
    expect(exposed).toContain(
      'grpc_server_handling_seconds_count{service="te.user.v1.UserService",method="GetJwks",code="OK"} 2',
    );
  });
});
