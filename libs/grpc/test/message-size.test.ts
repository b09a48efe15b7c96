import { AppError } from '@te/platform';
import { callServerStream, callUnary } from '../src/index.js';
import { startTickerService, type TickerHarness } from './ticker-support.js';

const MIB = 1024 * 1024;

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('Message size limits', () => {
  let harness: TickerHarness;
  afterEach(async () => {
    await harness?.close();
  });

  it('When a request exceeds the server’s 4 MiB default, then the caller gets PAYLOAD_TOO_LARGE (not RATE_LIMITED)', async () => {
    harness = await startTickerService();
    const padding = Buffer.alloc(5 * MIB, 7);

    const streamed = await collect(callServerStream(harness.client, 'Ticks', { count: 1, padding })).catch(
      (e: unknown) => e,
    );
    const unary = await callUnary(harness.client, 'Echo', { padding }).catch((e: unknown) => e);

    for (const error of [streamed, unary]) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        details: expect.objectContaining({ grpcStatus: 'RESOURCE_EXHAUSTED' }),
      });
    }
  });

  it('When the server raises grpc.max_receive_message_length, then the same request goes through', async () => {
    harness = await startTickerService({}, { serverOptions: { 'grpc.max_receive_message_length': 8 * MIB } });
    const padding = Buffer.alloc(5 * MIB, 7);

    const ticks = await collect(callServerStream(harness.client, 'Ticks', { count: 2, padding }));
    const echo = await callUnary(harness.client, 'Echo', { padding });

    expect(ticks.map((tick) => tick.n)).toEqual([1, 2]);
    expect(echo.paddingBytes).toBe(5 * MIB);
  });

  it('When a streamed message exceeds the client’s receive limit, then PAYLOAD_TOO_LARGE; raising it via channelOptions lets it through', async () => {
    harness = await startTickerService();
    const request = { count: 2, payloadBytes: 5 * MIB };

    await expect(collect(callServerStream(harness.client, 'Ticks', request))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    await harness.close();

    harness = await startTickerService(
      {},
      { channelOptions: { 'grpc.max_receive_message_length': 8 * MIB } },
    );
    const ticks = await collect(callServerStream(harness.client, 'Ticks', request));
    expect(ticks.map((tick) => tick.payload.length)).toEqual([5 * MIB, 5 * MIB]);
  });
});
