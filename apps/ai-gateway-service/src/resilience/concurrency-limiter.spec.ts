import { ConcurrencyLimiter, SlotRefused } from './concurrency-limiter.js';

async function refusal(promise: Promise<unknown>): Promise<SlotRefused> {
  try {
    await promise;
  } catch (error) {
    return error as SlotRefused;
  }
  throw new Error('expected a refusal');
}

describe('concurrency limiter', () => {
  it('When the slots are taken, then callers wait in arrival order and get a slot as one is freed', async () => {
    const limiter = new ConcurrencyLimiter(2, 10);
    const first = await limiter.acquire();
    const second = await limiter.acquire();
    const order: string[] = [];
    const third = limiter.acquire().then((release) => (order.push('third'), release));
    const fourth = limiter.acquire().then((release) => (order.push('fourth'), release));
    expect(limiter.queued).toBe(2);
    first();
    first(); // releasing twice frees one slot only
    const releaseThird = await third;
    expect(order).toEqual(['third']);
    expect(limiter.inFlight).toBe(2);
    second();
    await fourth;
    releaseThird();
    expect(order).toEqual(['third', 'fourth']);
    expect(limiter.inFlight).toBe(1);
  });

  it('When the queue is full, then the next caller is refused at once', async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    await limiter.acquire();
    void limiter.acquire();
    const refused = await refusal(limiter.acquire());
    expect(refused).toBeInstanceOf(SlotRefused);
    expect(refused.why).toBe('queue_full');
    expect(refused.message).toBe('1 calls are in flight and 1 waiting, the most allowed');
    const noQueue = new ConcurrencyLimiter(1, 0);
    await noQueue.acquire();
    expect((await refusal(noQueue.acquire())).why).toBe('queue_full');
  });

  it('When a waiter’s signal aborts, then it leaves the queue and its place is not granted', async () => {
    const limiter = new ConcurrencyLimiter(1, 5);
    const release = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire({ signal: controller.signal });
    controller.abort(new Error('gone'));
    const refused = await refusal(waiting);
    expect(refused.why).toBe('aborted');
    expect(limiter.queued).toBe(0);
    release();
    expect(limiter.inFlight).toBe(0);
  });

  it('When a waiter’s deadline passes, then it is refused', async () => {
    const limiter = new ConcurrencyLimiter(1, 5);
    await limiter.acquire();
    const refused = await refusal(limiter.acquire({ deadline: Date.now() + 20 }));
    expect(refused.why).toBe('deadline');
    expect(limiter.queued).toBe(0);
    expect((await refusal(limiter.acquire({ deadline: Date.now() - 1 }))).why).toBe('deadline');
  });

  it('When counts change, then the observer hears every change', async () => {
    const seen: string[] = [];
    const limiter = new ConcurrencyLimiter(1, 5, (inFlight, queued) => seen.push(`${inFlight}/${queued}`));
    const release = await limiter.acquire();
    const next = limiter.acquire();
    release();
    (await next)();
    expect(seen).toEqual(['1/0', '1/1', '1/0', '0/0']);
  });
});
