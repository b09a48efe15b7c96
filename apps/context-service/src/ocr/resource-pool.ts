import { AppError } from '@te/platform';

export interface ResourcePoolOptions<T> {
  /** Most resources alive at once. */
  size: number;
  create(): Promise<T>;
  destroy(resource: T): Promise<void>;
}

/**
 * A tiny lazy pool: resources are created on first demand up to `size`, reused, and destroyed by
 * `discard` (a resource in an unknown state) or `close`. Callers wait in `acquire` until one is free or
 * their signal aborts. Waiters are all woken on every change and race for it: with pools of one to a
 * few OCR workers that costs nothing and cannot strand a free resource behind an aborted waiter.
 */
export class ResourcePool<T> {
  private readonly idle: T[] = [];
  private readonly live = new Set<T>();
  private readonly waiters = new Set<() => void>();
  private readonly creating = new Set<Promise<T>>();
  private closed = false;

  constructor(private readonly options: ResourcePoolOptions<T>) {}

  async acquire(signal: AbortSignal): Promise<T> {
    for (;;) {
      signal.throwIfAborted();
      if (this.closed) throw closedError();
      const resource = this.idle.pop();
      if (resource !== undefined) return resource;
      if (this.live.size + this.creating.size < this.options.size) return this.createFor(signal);
      await this.nextChange(signal);
    }
  }

  release(resource: T): void {
    if (!this.live.has(resource)) return;
    if (this.closed) {
      this.discard(resource);
      return;
    }
    this.idle.push(resource);
    this.wake();
  }

  discard(resource: T): void {
    if (!this.live.delete(resource)) return;
    const index = this.idle.indexOf(resource);
    if (index >= 0) this.idle.splice(index, 1);
    this.options.destroy(resource).catch(() => undefined);
    this.wake();
  }

  /** Rejects every waiter and destroys every resource, busy, idle or being created; later acquires reject. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await Promise.allSettled([...this.creating]);
    const resources = [...this.live];
    this.live.clear();
    this.idle.length = 0;
    await Promise.allSettled(resources.map((resource) => this.options.destroy(resource)));
  }

  private async createFor(signal: AbortSignal): Promise<T> {
    const creating: Promise<T> = this.options.create().then(
      async (resource) => {
        this.creating.delete(creating);
        if (this.closed) {
          await this.options.destroy(resource).catch(() => undefined);
          throw closedError();
        }
        this.live.add(resource);
        return resource;
      },
      (error: unknown) => {
        this.creating.delete(creating);
        this.wake();
        throw error;
      },
    );
    this.creating.add(creating);
    try {
      const resource = await abortable(creating, signal);
      if (this.closed) throw closedError();
      return resource;
    } catch (error) {
      // The caller gave up while the resource was being created: it goes to whoever waits next.
      if (signal.aborted) creating.then((resource) => this.release(resource)).catch(() => undefined);
      throw error;
    }
  }

  private nextChange(signal: AbortSignal): Promise<void> {
    return abortable(
      new Promise<void>((resolve) => {
        this.waiters.add(resolve);
        signal.addEventListener('abort', () => this.waiters.delete(resolve), { once: true });
      }),
      signal,
    );
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function closedError(): AppError {
  return new AppError('UNAVAILABLE', 'The OCR engine is closed');
}
