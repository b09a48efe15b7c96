import path from 'node:path';
import {
  loadPackageDefinition,
  type ChannelOptions,
  type GrpcObject,
  type ServerOptions,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  AppError,
  Health,
  captureLogger,
  createMetrics,
  type CapturedLogger,
  type Metrics,
} from '@te/platform';
import {
  PROTO_LOADER_OPTIONS,
  createGrpcClient,
  createGrpcServer,
  type AsyncHandlers,
  type GrpcServer,
} from '../src/index.js';
import type { ProtoGrpcType } from './fixtures/generated/ticker.js';
import type {
  TickerServiceClient,
  TickerServiceHandlers,
} from './fixtures/generated/grpctest/v1/TickerService.js';

export type TickerHandlers = AsyncHandlers<TickerServiceHandlers>;

let protos: ProtoGrpcType | undefined;

/** The test-only grpctest.v1 contract (test/fixtures/proto), loaded as loadProtos() loads proto/. */
export function loadTickerProtos(): ProtoGrpcType {
  const root = path.join(__dirname, 'fixtures/proto');
  protos ??= loadPackageDefinition(
    loadSync('grpctest/v1/ticker.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [root] }),
  ) as GrpcObject as unknown as ProtoGrpcType;
  return protos;
}

export interface TickerHarness {
  server: GrpcServer;
  client: TickerServiceClient;
  metrics: Metrics;
  log: CapturedLogger;
  close(): Promise<void>;
}

/** A TickerService on port 0 (default handlers: `count` ticks at once; Echo measures) and a client. */
export async function startTickerService(
  overrides: Partial<TickerHandlers> = {},
  options: { serverOptions?: ServerOptions; channelOptions?: ChannelOptions; clientDeadlineMs?: number } = {},
): Promise<TickerHarness> {
  const log = captureLogger('grpc-stream-test');
  const metrics = createMetrics({ service: 'grpc-stream-test', defaultMetrics: false });
  const server = createGrpcServer({
    logger: log.logger,
    metrics,
    health: new Health(),
    reflection: false,
    serverOptions: options.serverOptions,
  });
  server.addService(loadTickerProtos().grpctest.v1.TickerService.service, {
    ...defaultHandlers(),
    ...overrides,
  });
  const port = await server.start(0, '127.0.0.1');
  const client = createGrpcClient(loadTickerProtos().grpctest.v1.TickerService, `127.0.0.1:${port}`, {
    logger: log.logger,
    metrics,
    deadlineMs: options.clientDeadlineMs,
    channelOptions: options.channelOptions,
  });
  return {
    server,
    client,
    metrics,
    log,
    async close() {
      client.close();
      await server.stop(1_000);
    },
  };
}

function defaultHandlers(): TickerHandlers {
  return {
    async *Ticks(request, ctx) {
      if (request.count < 0) throw new AppError('VALIDATION_FAILED', 'count must not be negative');
      for (let n = 1; n <= request.count; n += 1) {
        yield {
          n,
          requestId: ctx.requestId,
          userId: ctx.principal?.userId ?? '',
          payload: Buffer.alloc(request.payloadBytes, n % 256),
        };
      }
    },
    async Echo(request) {
      return { paddingBytes: request.padding.length };
    },
  };
}

/** Polls `check` until it returns true; fails with `what` after the deadline. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Histogram `_count` samples as plain rows, to assert one observation per call. */
export async function callCounts(histogram: Metrics['grpcServerDuration']) {
  const metric = await histogram.get();
  return metric.values
    .filter((value) => value.metricName === `${metric.name}_count`)
    .map((value) => ({ ...value.labels, count: value.value }));
}
