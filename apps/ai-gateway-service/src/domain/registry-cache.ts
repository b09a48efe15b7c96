import type { Logger } from '@te/platform';
import type { RegistryView } from './ports.js';
import type { RegistrySnapshot } from './registry.js';
import { ModelResolver } from './resolve-model.js';

/**
 * This replica's copy of the registry: every resolution reads memory, never the database. It is
 * reloaded every `refreshMs` (the guarantee every replica gets), at once when this replica writes,
 * and when an `ai.registry.changed` event reaches it (decision 0014 says why both).
 */
export class RegistryCache implements RegistryView {
  private current?: ModelResolver;
  private timer?: NodeJS.Timeout;
  private loading?: Promise<void>;
  private next?: Promise<void>;

  constructor(
    private readonly load: () => Promise<RegistrySnapshot>,
    private readonly options: { refreshMs: number; logger: Logger },
  ) {}

  resolver(): ModelResolver {
    if (!this.current) throw new Error('the model registry is not loaded yet');
    return this.current;
  }

  get loaded(): boolean {
    return this.current !== undefined;
  }

  /**
   * Reloads, and resolves once a load that started after this call has finished, so a caller that
   * has just written sees its write. A call while a load runs waits for one more load after it
   * (that load may have read before the write); calls meanwhile share that next load.
   */
  refresh(): Promise<void> {
    if (!this.loading) return this.startLoad();
    this.next ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.startLoad();
      });
    return this.next;
  }

  private startLoad(): Promise<void> {
    this.loading = this.load()
      .then((snapshot) => {
        this.current = new ModelResolver(snapshot);
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.options.logger.warn('model registry refresh failed; serving the last copy', { error }),
      );
    }, this.options.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
