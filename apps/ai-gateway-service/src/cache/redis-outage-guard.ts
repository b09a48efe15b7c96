import type { Logger, Redis } from '@te/platform';

export type Guarded<T> = { ok: true; value: T } | { ok: false };

/**
 * Runs the Redis commands of a component that must never fail an inference (the response cache, the
 * token budget's fail-open policy): when Redis is not connected, errs or is slower than `timeoutMs`,
 * the call is skipped (`{ ok: false }`). The outage is logged once when it starts and once when it
 * ends, not on every request.
 */
export class RedisOutageGuard {
  private down = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly options: {
      /** "response cache", "token budget": names the component in the log lines. */
      component: string;
      /** What happens while Redis is unavailable, for the operator ("skipped", "not enforced"). */
      consequence: string;
      timeoutMs?: number;
    },
  ) {}

  /** True while the last attempt failed (the outage has been logged). */
  get unavailable(): boolean {
    return this.down;
  }

  async run<T>(operation: string, command: () => Promise<T>): Promise<Guarded<T>> {
    if (this.redis.status !== 'ready') {
      this.failed(operation, new Error(`redis is ${this.redis.status}`));
      return { ok: false };
    }
    const timeoutMs = this.options.timeoutMs ?? 500;
    let timer: NodeJS.Timeout | undefined;
    try {
      const value = await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (this.down) {
        this.down = false;
        this.logger.info(`${this.options.component} available again`, { operation });
      }
      return { ok: true, value };
    } catch (error) {
      this.failed(operation, error);
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(operation: string, error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(`${this.options.component} unavailable: ${this.options.consequence}`, {
      operation,
      err: error,
    });
  }
}
