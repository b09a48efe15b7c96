import {
  credentials,
  makeGenericClientConstructor,
  type ClientReadableStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { Health } from '@te/platform';
import { grpcHealthCheck } from '../src/index.js';
import { sleep, startUserService, type Harness } from './support.js';

const HealthClient = makeGenericClientConstructor(
  healthService as ServiceDefinition,
  'grpc.health.v1.Health',
);
interface RawHealthClient {
  Check(
    request: { service: string },
    callback: (error: Error | null, response?: { status: string }) => void,
  ): void;
  Watch(request: { service: string }): ClientReadableStream<{ status: string }>;
  close(): void;
}

describe('grpc.health.v1', () => {
  let harness: Harness;
  let raw: RawHealthClient;
  const check = (service: string) =>
    new Promise<string>((resolve, reject) =>
      raw.Check({ service }, (error, response) => (error ? reject(error) : resolve(response?.status ?? ''))),
    );

  afterEach(async () => {
    raw?.close();
    await harness?.close();
  });

  async function start(health = new Health()) {
    harness = await startUserService({}, { health });
    raw = new HealthClient(harness.address, credentials.createInsecure()) as unknown as RawHealthClient;
  }

  it('When the server runs and readiness passes, then the server and each service are SERVING', async () => {
    await start();

    expect(await check('')).toBe('SERVING');
    expect(await check('te.user.v1.UserService')).toBe('SERVING');
    await expect(check('te.nope.v1.NopeService')).rejects.toMatchObject({ code: 5 });
  });

  it('When a readiness check fails, then Check answers NOT_SERVING until it recovers', async () => {
    let databaseUp = false;
    const health = new Health();
    health.addReadinessCheck('database', async () => {
      if (!databaseUp) throw new Error('connection refused');
    });
    await start(health);

    expect(await check('te.user.v1.UserService')).toBe('NOT_SERVING');
    databaseUp = true;
    await sleep(1_100); // past the 1 s reuse window of the last readiness result
    expect(await check('te.user.v1.UserService')).toBe('SERVING');
  });

  it('When shutdown begins, then Check answers NOT_SERVING at once and watchers are told', async () => {
    await start();
    expect(await check('')).toBe('SERVING');
    const stream = raw.Watch({ service: 'te.user.v1.UserService' });
    const statuses: string[] = [];
    stream.on('data', (message: { status: string }) => statuses.push(message.status));
    stream.on('error', () => undefined); // cancelled at the end of the test
    await sleep(50);

    harness.health.markShuttingDown();

    expect(await check('')).toBe('NOT_SERVING');
    await sleep(150);
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    stream.cancel();
  });

  it('When another service uses grpcHealthCheck as a readiness check, then it passes only while the peer serves', async () => {
    await start();
    const peerCheck = grpcHealthCheck(harness.address, { service: 'te.user.v1.UserService' });
    try {
      await expect(peerCheck()).resolves.toBeUndefined();
      harness.health.markShuttingDown();
      await expect(peerCheck()).rejects.toThrow(/NOT_SERVING/);
      await harness.server.stop(100);
      await expect(peerCheck()).rejects.toThrow(/health check of .* failed/);
    } finally {
      peerCheck.close();
    }
  });
});
