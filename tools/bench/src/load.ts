import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** One side of a comparison: throughput and latency (milliseconds). */
export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** The first error seen, so a failing side is explained rather than just slow. */
  firstError?: string;
}

export interface LoadSettings {
  connections: number;
  durationS: number;
  warmupS: number;
}

/**
 * HTTP load with autocannon (a warm-up run first, discarded). Latency percentiles are computed from
 * each response's time as autocannon reports it (fractional milliseconds); its own histogram rounds
 * to whole milliseconds, too coarse on loopback.
 */
export async function httpLoad(
  url: string,
  settings: LoadSettings,
  headers: Record<string, string> = {},
  expectedStatus = 200,
): Promise<LoadResult> {
  const { connections } = settings;
  if (settings.warmupS > 0) await autocannon({ url, connections, duration: settings.warmupS, headers });
  const latencies: number[] = [];
  let unexpected = 0;
  let firstStatus: number | undefined;
  const run = autocannon({ url, connections, duration: settings.durationS, headers });
  run.on('response', (_client, status, _bytes, responseTimeMs) => {
    if (status === expectedStatus) latencies.push(responseTimeMs);
    else {
      unexpected += 1;
      firstStatus ??= status;
    }
  });
  const result = await run;
  const errors = result.errors + result.timeouts + unexpected;
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / settings.durationS,
    ...percentiles(latencies),
    ...(errors
      ? {
          firstError: `${unexpected} answers other than ${expectedStatus} (first: ${firstStatus}), ${result.errors} errors`,
        }
      : {}),
  };
}

/**
 * A closed loop: `connections` callers, each calling `call` again as soon as the last call settled,
 * for the duration (after a discarded warm-up). Used where one side is not plain HTTP (gRPC), so both
 * sides of a comparison go through the same loop with microsecond timing.
 */
export async function closedLoop(
  call: (index: number) => Promise<unknown>,
  settings: LoadSettings,
): Promise<LoadResult> {
  if (settings.warmupS > 0) await runLoop(call, settings.connections, settings.warmupS * 1000);
  return runLoop(call, settings.connections, settings.durationS * 1000);
}

async function runLoop(
  call: (index: number) => Promise<unknown>,
  connections: number,
  durationMs: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let counter = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await call(counter++);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error)?.message ?? String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / elapsedS,
    ...percentiles(latencies),
    ...(firstError ? { firstError } : {}),
  };
}

/** p50 and p99 of samples in milliseconds (nearest rank). */
export function percentiles(samples: number[]): { p50: number; p99: number } {
  if (samples.length === 0) return { p50: Number.NaN, p99: Number.NaN };
  const sorted = Float64Array.from(samples).sort();
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: rank(0.5), p99: rank(0.99) };
}
