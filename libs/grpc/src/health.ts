import type { ServiceDefinition, UntypedServiceImplementation, handleUnaryCall } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Health, Logger } from '@te/platform';

export interface GrpcHealthOptions {
  health: Health;
  logger: Logger;
  /** How often readiness is re-evaluated for Watch streams; Check re-evaluates on demand. */
  refreshIntervalMs?: number;
  /** A Check reuses a readiness result this young, so probes cannot stampede the dependencies. */
  maxAgeMs?: number;
}

/**
 * grpc.health.v1 for one server, following the platform's Health: NOT_SERVING until the server has
 * started, SERVING while readiness passes, NOT_SERVING as soon as shutdown begins. The overall status
 * ("") and every added service share the same answer: they live and die together in one process.
 */
export class GrpcHealthReporter {
  private readonly implementation = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly services = new Set<string>(['']);
  private readonly published = new Map<string, ServingStatus>([['', 'NOT_SERVING']]);
  private readonly refreshIntervalMs: number;
  private readonly maxAgeMs: number;
  private serving = false;
  private stopped = true;
  private checkedAt = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: GrpcHealthOptions) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 5_000;
    this.maxAgeMs = options.maxAgeMs ?? 1_000;
  }

  /** Registers grpc.health.v1.Health on the server, with Check refreshing readiness first. */
  addToServer(server: {
    addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void;
  }) {
    this.implementation.addToServer({
      addService: (service, implementation) => {
        const check = implementation['check'] as handleUnaryCall<unknown, unknown>;
        const refreshed: handleUnaryCall<unknown, unknown> = (call, callback) => {
          this.refresh().finally(() => check(call, callback));
        };
        server.addService(service as ServiceDefinition, { ...implementation, check: refreshed });
      },
    });
  }

  track(service: string): void {
    this.services.add(service);
    this.publish(this.serving && !this.stopped ? 'SERVING' : 'NOT_SERVING');
  }

  start(): void {
    this.stopped = false;
    this.checkedAt = 0;
    this.timer = setInterval(() => void this.refresh(), this.refreshIntervalMs);
    this.timer.unref();
    void this.refresh();
  }

  /** NOT_SERVING for good: called when the server stops. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.publish('NOT_SERVING');
  }

  /** Re-evaluates readiness unless a fresh answer exists; concurrent callers share one evaluation. */
  refresh(): Promise<void> {
    if (this.stopped || this.options.health.shuttingDown) {
      this.publish('NOT_SERVING');
      return Promise.resolve();
    }
    if (Date.now() - this.checkedAt < this.maxAgeMs) return Promise.resolve();
    this.inFlight ??= this.evaluate().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async evaluate(): Promise<void> {
    let ready = false;
    try {
      ready = (await this.options.health.readiness()).ready;
    } catch (error) {
      this.options.logger.warn('Readiness evaluation failed', { error_message: (error as Error).message });
    }
    this.checkedAt = Date.now();
    const serving = ready && !this.stopped && !this.options.health.shuttingDown;
    this.publish(serving ? 'SERVING' : 'NOT_SERVING');
  }

  // Only changes reach the implementation: every setStatus is also a message to each Watch stream.
  private publish(status: ServingStatus): void {
    const serving = status === 'SERVING';
    if (serving !== this.serving) {
      this.options.logger.info('gRPC health status changed', { status });
      this.serving = serving;
    }
    for (const service of this.services) {
      if (this.published.get(service) === status) continue;
      this.published.set(service, status);
      this.implementation.setStatus(service, status);
    }
  }
}
