import type { Logger, Redis } from '@te/platform';

/** One open stream's view of the tail: "your log may have grown since you last read it". */
export interface TailSubscription {
  /**
   * Resolves at once the first time and whenever the key got entries since the previous call (or the
   * tail lost Redis: read, and fail, yourself); resolves too when `signal` aborts.
   */
  changed(signal: AbortSignal): Promise<void>;
  /** Stops watching; the key is dropped from the tail when no open stream needs it. */
  close(): void;
}

export interface LiveTailOptions {
  logger: Logger;
  /** CLIENT SETNAME of the blocking connection (shown in CLIENT LIST). */
  connectionName: string;
  /** Longest XREAD BLOCK; a new key interrupts it at once (CLIENT UNBLOCK). */
  blockMs?: number;
}

interface Watcher {
  dirty: boolean;
  wake?: () => void;
}

interface WatchedKey {
  /** The newest entry the tail has seen; XREAD asks for what follows. */
  cursor: string;
  watchers: Set<Watcher>;
}

/**
 * The per-process fan-out reader of the event logs (decision 0021). However many streams are open on
 * this replica, ONE Redis connection blocks, in one XREAD over the logs of the users with an open
 * stream; when a log grows, that user's open streams are woken and each reads its entries itself
 * (XRANGE on the shared connection, at its own pace: a slow stream holds only itself back, and nothing
 * is buffered here). Without open streams the tail issues no command at all.
 */
export class LiveTail {
  private readonly keys = new Map<string, WatchedKey>();
  private connection?: Redis;
  private connectionId?: number;
  private blocked = false;
  private idle?: () => void;
  private loop?: Promise<void>;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: LiveTailOptions,
  ) {}

  /** Open streams and the logs watched for them, on this replica. */
  get stats(): { streams: number; keys: number } {
    let streams = 0;
    for (const watched of this.keys.values()) streams += watched.watchers.size;
    return { streams, keys: this.keys.size };
  }

  /** Open streams on one key (one user's) on this replica. */
  streamsOf(key: string): number {
    return this.keys.get(key)?.watchers.size ?? 0;
  }

  /**
   * Watches `key` (without the client's key prefix) for entries after `from` (a position the caller
   * reads up to by itself).
   */
  subscribe(key: string, from: string): TailSubscription {
    if (this.closed) throw new Error('live tail closed');
    const watcher: Watcher = { dirty: true };
    let watched = this.keys.get(key);
    if (!watched) {
      watched = { cursor: from, watchers: new Set() };
      this.keys.set(key, watched);
      this.interrupt(); // the XREAD in progress does not know the key yet
    }
    watched.watchers.add(watcher);
    this.start();
    return {
      changed: (signal) => changed(watcher, signal),
      close: () => {
        const current = this.keys.get(key);
        if (!current?.watchers.delete(watcher) || current.watchers.size > 0) return;
        this.keys.delete(key);
        if (this.keys.size === 0) this.interrupt(); // go idle now rather than at the block timeout
      },
    };
  }

  /** Ends the loop and its connection (open streams must have ended: host.stop drains gRPC first). */
  async close(): Promise<void> {
    this.closed = true;
    this.idle?.();
    this.connection?.disconnect();
    await this.loop;
  }

  private start(): void {
    if (this.loop) return;
    const connection = this.redis.duplicate({
      connectionName: this.options.connectionName,
      lazyConnect: true,
    });
    connection.on('error', () => undefined); // the loop reports failures; ioredis reconnects
    connection.on('ready', () => (this.connectionId = undefined)); // a new connection has a new id
    this.connection = connection;
    this.loop = this.run(connection);
  }

  private async run(connection: Redis): Promise<void> {
    let failing = false;
    while (!this.closed) {
      if (this.keys.size === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        this.idle = undefined;
        continue;
      }
      try {
        if (connection.status === 'wait') await connection.connect();
        this.connectionId ??= Number(await connection.client('ID'));
        await this.readOnce(connection);
        if (failing) this.options.logger.info('event stream tail reading again');
        failing = false;
      } catch (error) {
        if (this.closed) break;
        if (!failing) this.options.logger.warn('event stream tail cannot read Redis', { err: error });
        failing = true;
        this.wakeAll(); // each open stream then reads, fails and ends: its client resumes elsewhere
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async readOnce(connection: Redis): Promise<void> {
    const names = [...this.keys.keys()];
    const cursors = names.map((name) => this.keys.get(name)?.cursor ?? '0-0');
    this.blocked = true;
    let result: [string, [string, string[]][]][] | null;
    try {
      result = (await connection.xread(
        'COUNT',
        100,
        'BLOCK',
        this.options.blockMs ?? 5_000,
        'STREAMS',
        ...names,
        ...cursors,
      )) as [string, [string, string[]][]][] | null;
    } finally {
      this.blocked = false;
    }
    const prefix = connection.options.keyPrefix ?? '';
    for (const [fullName, entries] of result ?? []) {
      const watched = this.keys.get(fullName.slice(prefix.length));
      const last = entries.at(-1);
      if (!watched || !last) continue;
      watched.cursor = last[0];
      for (const watcher of watched.watchers) notify(watcher);
    }
  }

  /** Ends the current XREAD BLOCK early (as a timeout), or the idle wait. */
  private interrupt(): void {
    if (this.idle) return this.idle();
    if (!this.blocked || this.connectionId === undefined) return;
    this.redis.client('UNBLOCK', this.connectionId).catch(() => undefined);
  }

  private wakeAll(): void {
    for (const watched of this.keys.values()) for (const watcher of watched.watchers) notify(watcher);
  }
}

function notify(watcher: Watcher): void {
  watcher.dirty = true;
  watcher.wake?.();
}

function changed(watcher: Watcher, signal: AbortSignal): Promise<void> {
  if (watcher.dirty || signal.aborted) {
    watcher.dirty = false;
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      watcher.wake = undefined;
      watcher.dirty = false;
      resolve();
    };
    watcher.wake = done;
    signal.addEventListener('abort', done, { once: true });
  });
}
