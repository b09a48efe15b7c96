import { createLogger, createMetrics } from '@te/platform';
import { callUnary, createGrpcClient, loadProtos, waitForReady } from '../src/index.js';
import { sleep, startUserService, type Harness } from './support.js';

describe('gRPC server shutdown', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness?.close();
  });

  it('When stop() is called during a call, then that call completes and later calls are refused', async () => {
    let finished = false;
    const arrived = signal();
    harness = await startUserService({
      async GetUser(request) {
        arrived.fire();
        await sleep(300);
        finished = true;
        return { user: { id: request.id } };
      },
    });

    const inFlight = callUnary(harness.client, 'GetUser', { id: 'u1' });
    await arrived.fired;
    const stopped = harness.server.stop(5_000);

    await expect(inFlight).resolves.toEqual({ user: expect.objectContaining({ id: 'u1' }) });
    await stopped;
    expect(finished).toBe(true);
    await expect(callUnary(harness.client, 'GetJwks', {}, { deadlineMs: 1_000 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
  });

  it('When a call outlives the grace period, then stop() cancels it and returns on time', async () => {
    const arrived = signal();
    harness = await startUserService(
      {
        async GetUser(_request, ctx) {
          arrived.fire();
          // Stuck until grpc-js cancels the call: forceShutdown() must end it.
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          return { user: { id: 'too late' } };
        },
      },
      { clientDeadlineMs: 10_000 },
    );

    const stuck = callUnary(harness.client, 'GetUser', { id: 'u1' }).catch((e: unknown) => e);
    await arrived.fired;
    const started = Date.now();
    await harness.server.stop(200);

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await stuck).toMatchObject({ code: 'UNAVAILABLE', message: 'Service unavailable' });
    const messages = harness.log.lines().map((line) => line.message);
    expect(messages).toContain('gRPC server did not drain in time; cancelling remaining calls');
  });

  it('When the server is up, then waitForReady resolves; once it is gone, then it rejects with UNAVAILABLE at the deadline', async () => {
    harness = await startUserService();
    await expect(waitForReady(harness.client, Date.now() + 2_000)).resolves.toBeUndefined();
    await harness.server.stop(100);

    const fresh = createGrpcClient(loadProtos().te.user.v1.UserService, harness.address, {
      logger: createLogger({ service: 'grpc-test', silent: true }),
      metrics: createMetrics({ service: 'grpc-test', defaultMetrics: false }),
    });
    try {
      const started = Date.now();
      await expect(waitForReady(fresh, Date.now() + 300)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      fresh.close();
    }
  });
});

/** Resolves `fired` once the handler has the call: stopping before that would test refusal, not draining. */
function signal(): { fire(): void; fired: Promise<void> } {
  let fire = () => undefined as void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire: () => fire(), fired };
}
