import { AppError } from '@te/platform';
import { ResourcePool } from './resource-pool.js';

interface Resource {
  id: number;
}

function createPool(size: number) {
  const created: Resource[] = [];
  const destroyed: Resource[] = [];
  const pool = new ResourcePool<Resource>({
    size,
    create: async () => {
      const resource = { id: created.length + 1 };
      created.push(resource);
      return resource;
    },
    destroy: async (resource) => {
      destroyed.push(resource);
    },
  });
  return { pool, created, destroyed };
}

const never = () => new AbortController().signal;

describe('ResourcePool', () => {
  it('When nothing has been acquired yet, then nothing is created', async () => {
    const { pool, created } = createPool(2);
    expect(created).toHaveLength(0);
    await pool.close();
  });

  it('When a resource is released, then the next acquire reuses it instead of creating one', async () => {
    const { pool, created } = createPool(2);
    const first = await pool.acquire(never());
    pool.release(first);
    const second = await pool.acquire(never());
    expect(second).toBe(first);
    expect(created).toHaveLength(1);
    await pool.close();
  });

  it('When the pool is full, then an acquire waits until a resource is released', async () => {
    const { pool, created } = createPool(1);
    const first = await pool.acquire(never());
    let settled = false;
    const waiting = pool.acquire(never()).then((resource) => {
      settled = true;
      return resource;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    pool.release(first);
    await expect(waiting).resolves.toBe(first);
    expect(created).toHaveLength(1);
    await pool.close();
  });

  it('When a waiting caller aborts, then it rejects and the freed resource goes to the next waiter', async () => {
    const { pool } = createPool(1);
    const first = await pool.acquire(never());
    const controller = new AbortController();
    const aborted = pool.acquire(controller.signal);
    const next = pool.acquire(never());
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    pool.release(first);
    await expect(next).resolves.toBe(first);
    await pool.close();
  });

  it('When a busy resource is discarded, then it is destroyed and a waiter gets a new one', async () => {
    const { pool, created, destroyed } = createPool(1);
    const first = await pool.acquire(never());
    const waiting = pool.acquire(never());
    pool.discard(first);
    const replacement = await waiting;
    expect(replacement).not.toBe(first);
    expect(destroyed).toEqual([first]);
    expect(created).toHaveLength(2);
    await pool.close();
  });

  it('When the pool closes, then busy and idle resources are destroyed and later acquires reject', async () => {
    const { pool, destroyed } = createPool(2);
    const busy = await pool.acquire(never());
    const idle = await pool.acquire(never());
    pool.release(idle);
    await pool.close();
    expect(destroyed).toHaveLength(2);
    expect(destroyed).toEqual(expect.arrayContaining([busy, idle]));
    await expect(pool.acquire(never())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('When the pool closes while a caller waits, then that caller rejects with UNAVAILABLE', async () => {
    const { pool } = createPool(1);
    const busy = await pool.acquire(never());
    const waiting = pool.acquire(never());
    await pool.close();
    await expect(waiting).rejects.toBeInstanceOf(AppError);
    await expect(waiting).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    pool.release(busy);
  });

  it('When creating a resource fails, then the caller gets the error and a later acquire tries again', async () => {
    let attempts = 0;
    const pool = new ResourcePool<Resource>({
      size: 1,
      create: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('engine failed to start');
        return { id: attempts };
      },
      destroy: async () => undefined,
    });
    await expect(pool.acquire(never())).rejects.toThrow('engine failed to start');
    await expect(pool.acquire(never())).resolves.toEqual({ id: 2 });
    await pool.close();
  });
});
