/** Why a caller did not get a slot. */
export class SlotRefused extends Error {
  constructor(
    readonly why: 'queue_full' | 'deadline' | 'aborted',
    message: string,
    readonly abortReason?: unknown,
  ) {
    super(message);
    this.name = 'SlotRefused';
  }
}

// setTimeout fires at once for delays above 2^31 - 1 ms; a deadline that far away never matters here.
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  grant(release: () => void): void;
  refuse(error: SlotRefused): void;
}

/**
 * At most `limit` calls at once; up to `queueLimit` more wait in arrival order (a slot freed goes
 * straight to the oldest waiter, so nobody overtakes the queue), and beyond that callers are refused
 * at once. A waiter leaves the queue when its signal aborts or its deadline passes.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
    private readonly onChange: (inFlight: number, queued: number) => void = () => undefined,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with the slot's release function (idempotent); rejects with SlotRefused. */
  acquire(options: { signal?: AbortSignal; deadline?: number } = {}): Promise<() => void> {
    const { signal, deadline } = options;
    if (signal?.aborted)
      return Promise.reject(new SlotRefused('aborted', 'The call was cancelled', signal.reason));
    if (this.active < this.limit) {
      this.active++;
      this.changed();
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queueLimit)
      return Promise.reject(
        new SlotRefused(
          'queue_full',
          `${this.active} calls are in flight and ${this.waiting.length} waiting, the most allowed`,
        ),
      );
    if (deadline !== undefined && deadline <= Date.now())
      return Promise.reject(new SlotRefused('deadline', 'The call ran out of time waiting for a free slot'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        refuse: (error) => {
          leave();
          this.changed();
          reject(error);
        },
      };
      const onAbort = () =>
        waiter.refuse(new SlotRefused('aborted', 'The call was cancelled', signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined)
        timer = setTimeout(
          () =>
            waiter.refuse(new SlotRefused('deadline', 'The call ran out of time waiting for a free slot')),
          Math.min(deadline - Date.now(), MAX_TIMER_MS),
        );
      this.waiting.push(waiter);
      this.changed();
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting[0];
      // The slot passes to the oldest waiter: `active` stays the same.
      if (next) next.grant(this.releaser());
      else this.active--;
      this.changed();
    };
  }

  private changed(): void {
    this.onChange(this.active, this.waiting.length);
  }
}
