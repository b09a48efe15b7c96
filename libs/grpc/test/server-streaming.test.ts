import { AppError, Health, captureLogger, createMetrics, runWithRequestContext } from '@te/platform';
import { callServerStream, callUnary, createGrpcServer, type CallContext } from '../src/index.js';
import {
  callCounts,
  eventually,
  loadTickerProtos,
  startTickerService,
  type TickerHandlers,
  type TickerHarness,
} from './ticker-support.js';

const TICKER = 'grpctest.v1.TickerService';

/** A handler that streams until stopped, recording what the test needs to see from the server. */
function endlessTicks() {
  const seen = { produced: 0, finallyRan: false, signal: undefined as AbortSignal | undefined };
  const handler: TickerHandlers['Ticks'] = async function* (_request, ctx) {
    seen.signal = ctx.signal;
    try {
      for (let n = 1; ; n += 1) {
        seen.produced = n;
        yield { n };
      }
    } finally {
      seen.finallyRan = true;
    }
  };
  return { seen, handler };
}

describe('Server-streaming RPCs', () => {
  let harness: TickerHarness;
  afterEach(async () => {
    await harness?.close();
  });

  it('When a handler yields N messages, then the client receives them in order and one OK call is recorded', async () => {
    harness = await startTickerService();

    const ticks: number[] = [];
    for await (const tick of callServerStream(harness.client, 'Ticks', { count: 50 })) ticks.push(tick.n);

    expect(ticks).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const histogram of [harness.metrics.grpcServerDuration, harness.metrics.grpcClientDuration]) {
      expect(await callCounts(histogram)).toEqual([
        { service: TICKER, method: 'Ticks', code: 'OK', count: 1 },
      ]);
    }
    expect(harness.log.lines().find((line) => line.message === 'gRPC call handled')).toMatchObject({
      grpc_method: 'Ticks',
      code: 'OK',
      messages_sent: 50,
    });
    // Compile-time contract (checked by `tsc -b`): the streaming and unary helpers take only their kind.
    // @ts-expect-error Echo is unary: callUnary, not callServerStream
    void (() => callServerStream(harness.client, 'Echo', {}));
    // @ts-expect-error Ticks streams: callServerStream, not callUnary
    void (() => callUnary(harness.client, 'Ticks', { count: 1 }));
    // @ts-expect-error a streaming handler yields messages; it does not resolve one
    const notAStream: TickerHandlers['Ticks'] = async () => ({ n: 1 });
    void notAStream;
  });

  it('When called inside a request with a principal, then the streaming handler sees its request id and principal', async () => {
    let seen: CallContext | undefined;
    harness = await startTickerService({
      async *Ticks(_request, ctx) {
        seen = ctx;
        yield { n: 1, requestId: ctx.requestId, userId: ctx.principal?.userId ?? '' };
      },
    });
    const principal = { userId: 'u-42', roles: ['user'], scopes: ['chat'] };

    const ticks = await runWithRequestContext({ requestId: 'req-stream-1', principal }, async () => {
      const received = [];
      for await (const tick of callServerStream(harness.client, 'Ticks', { count: 1 })) received.push(tick);
      return received;
    });

    expect(ticks).toEqual([expect.objectContaining({ n: 1, requestId: 'req-stream-1', userId: 'u-42' })]);
    expect(seen).toMatchObject({ requestId: 'req-stream-1', principal });
    expect(seen?.deadline).toBeInstanceOf(Date);
  });

  it('When the handler throws an AppError after some messages, then the client gets those messages, then that AppError', async () => {
    harness = await startTickerService({
      async *Ticks() {
        yield { n: 1 };
        yield { n: 2 };
        yield { n: 3 };
        throw new AppError('PRECONDITION_FAILED', 'The model cannot take images');
      },
    });

    const received: number[] = [];
    const error = await (async () => {
      for await (const tick of callServerStream(harness.client, 'Ticks', { count: 9 })) received.push(tick.n);
    })().catch((e: unknown) => e);

    expect(received).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'PRECONDITION_FAILED', message: 'The model cannot take images' });
    expect(await callCounts(harness.metrics.grpcServerDuration)).toEqual([
      { service: TICKER, method: 'Ticks', code: 'FAILED_PRECONDITION', count: 1 },
    ]);
    expect(harness.log.lines().find((line) => line.message === 'gRPC call rejected')).toMatchObject({
      error_code: 'PRECONDITION_FAILED',
      messages_sent: 3,
    });
  });

  it('When the handler rejects the request before any message, then the client gets that AppError and no message', async () => {
    harness = await startTickerService();

    const received: number[] = [];
    const error = await (async () => {
      for await (const tick of callServerStream(harness.client, 'Ticks', { count: -1 }))
        received.push(tick.n);
    })().catch((e: unknown) => e);

    expect(received).toEqual([]);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'count must not be negative' });
  });

  it('When the client aborts its signal mid-stream, then the call is cancelled and the server generator is closed', async () => {
    const { seen, handler } = endlessTicks();
    harness = await startTickerService({ Ticks: handler });
    const controller = new AbortController();

    const received: number[] = [];
    const error = await (async () => {
      for await (const tick of callServerStream(harness.client, 'Ticks', {}, { signal: controller.signal })) {
        received.push(tick.n);
        if (tick.n === 3) controller.abort();
      }
    })().catch((e: unknown) => e);

    expect(received.slice(0, 3)).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(AppError);
    await eventually('the server sees the cancellation', () => seen.signal?.aborted === true);
    await eventually("the generator's finally block runs", () => seen.finallyRan);
    await eventually('the server records the call', () => harness.log.lines().some(isAbandonedLine));
    expect(await callCounts(harness.metrics.grpcServerDuration)).toEqual([
      { service: TICKER, method: 'Ticks', code: 'CANCELLED', count: 1 },
    ]);
  });

  it('When the consumer breaks out of the loop, then the call is cancelled and the server generator is closed', async () => {
    const { seen, handler } = endlessTicks();
    harness = await startTickerService({ Ticks: handler });

    const received: number[] = [];
    for await (const tick of callServerStream(harness.client, 'Ticks', {})) {
      received.push(tick.n);
      if (tick.n === 3) break;
    }

    expect(received).toEqual([1, 2, 3]);
    await eventually('the server sees the cancellation', () => seen.signal?.aborted === true);
    await eventually("the generator's finally block runs", () => seen.finallyRan);
    // The stream stops: the generator is not resumed after the cancellation.
    const producedWhenClosed = seen.produced;
    await callUnary(harness.client, 'Echo', {});
    expect(seen.produced).toBe(producedWhenClosed);
  });

  it('When the deadline passes mid-stream, then the client gets DEADLINE_EXCEEDED even if the handler ignores ctx.signal', async () => {
    let signal: AbortSignal | undefined;
    harness = await startTickerService({
      async *Ticks(_request, ctx) {
        signal = ctx.signal;
        yield { n: 1 };
        // Stuck on work that never looks at ctx.signal: the call must still end at the deadline.
        await new Promise(() => undefined);
      },
    });

    const received: number[] = [];
    const started = Date.now();
    const error = await (async () => {
      for await (const tick of callServerStream(harness.client, 'Ticks', {}, { deadlineMs: 300 })) {
        received.push(tick.n);
      }
    })().catch((e: unknown) => e);

    expect(received).toEqual([1]);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'Deadline exceeded' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await eventually('the server aborts ctx.signal', () => signal?.aborted === true);
    await eventually('the server records the call', () => harness.log.lines().some(isAbandonedLine));
    expect(await callCounts(harness.metrics.grpcServerDuration)).toEqual([
      { service: TICKER, method: 'Ticks', code: 'DEADLINE_EXCEEDED', count: 1 },
    ]);
  });

  it('When the consumer is slow, then the server generator runs only a bounded number of messages ahead', async () => {
    const total = 2_000;
    let produced = 0;
    harness = await startTickerService({
      async *Ticks(request) {
        for (let n = 1; n <= request.count; n += 1) {
          produced = n;
          yield { n, payload: Buffer.alloc(request.payloadBytes, 1) };
        }
      },
    });

    const received: number[] = [];
    let lead = 0;
    for await (const tick of callServerStream(
      harness.client,
      'Ticks',
      { count: total, payloadBytes: 16 * 1024 },
      { deadlineMs: 30_000 },
    )) {
      received.push(tick.n);
      if (tick.n === 1) {
        // Hold the first message until the producer stops advancing: it has hit backpressure.
        let last = -1;
        await eventually('the producer stalls', () => {
          const stalled = produced === last;
          last = produced;
          return stalled && produced > 1;
        });
        lead = produced - received.length;
      }
    }

    // Unbounded buffering would have let the generator run through all 2,000 (32 MB) at once.
    expect(lead).toBeGreaterThan(0);
    expect(lead).toBeLessThan(total / 4);
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('When a handler of the wrong kind is given, then addService refuses it at start-up', () => {
    const server = createGrpcServer({
      logger: captureLogger('grpc-stream-test').logger,
      metrics: createMetrics({ service: 'grpc-stream-test', defaultMetrics: false }),
      health: new Health(),
      reflection: false,
    });
    const definition = loadTickerProtos().grpctest.v1.TickerService.service;
    const echo = async () => ({ paddingBytes: 0 });

    expect(() => server.addService(definition, { Ticks: async () => ({ n: 1 }), Echo: echo })).toThrow(
      /Ticks: a server-streaming handler must be an async generator/,
    );
    expect(() =>
      server.addService(definition, {
        async *Ticks() {
          yield { n: 1 };
        },
        async *Echo() {
          yield { paddingBytes: 0 };
        },
      }),
    ).toThrow(/Echo: a unary RPC takes an async function, not an async generator/);
  });
});

function isAbandonedLine(line: Record<string, unknown>): boolean {
  return line.message === 'gRPC call abandoned by the caller';
}
