import { captureLogger } from '@te/platform';
import { RegistryCache } from './registry-cache.js';
import type { RegistrySnapshot } from './registry.js';

/** A registry whose loads the test finishes by hand: each load returns the generation it started in. */
function scriptedRegistry() {
  let generation = 0;
  const pending: (() => void)[] = [];
  const load = () => {
    const seen = generation;
    return new Promise<RegistrySnapshot>((resolve) => {
      pending.push(() => resolve({ versions: [], aliases: [{ name: `gen-${seen}`, targets: [] }] }));
    });
  };
  return {
    load,
    write: () => (generation += 1),
    finishNext: () => pending.shift()?.(),
    get loadsStarted() {
      return pending.length;
    },
  };
}

const aliasName = (cache: RegistryCache) =>
  (cache.resolver() as unknown as { snapshot: RegistrySnapshot }).snapshot.aliases[0]?.name;

describe('RegistryCache.refresh', () => {
  const { logger } = captureLogger('registry-cache-spec');

  it('When a refresh is asked while an older load runs, then it resolves only after a newer load sees the write', async () => {
    const registry = scriptedRegistry();
    const cache = new RegistryCache(registry.load, { refreshMs: 60_000, logger });
    const first = cache.refresh(); // reads generation 0
    registry.write(); // generation 1, written while the first load is in flight
    let secondDone = false;
    const second = cache.refresh().then(() => (secondDone = true));
    const third = cache.refresh(); // shares the second's follow-up load

    registry.finishNext();
    await first;
    expect(aliasName(cache)).toBe('gen-0');
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondDone).toBe(false);

    registry.finishNext(); // the follow-up load, started after the first finished
    await Promise.all([second, third]);
    expect(aliasName(cache)).toBe('gen-1');
    expect(registry.loadsStarted).toBe(0);
  });

  it('When no load is running, then a refresh starts one at once', async () => {
    const registry = scriptedRegistry();
    const cache = new RegistryCache(registry.load, { refreshMs: 60_000, logger });
    const done = cache.refresh();
    expect(registry.loadsStarted).toBe(1);
    registry.finishNext();
    await done;
    expect(cache.loaded).toBe(true);
  });

  it('When the running load fails, then a waiting refresh still loads', async () => {
    let calls = 0;
    const cache = new RegistryCache(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('database away');
        return { versions: [], aliases: [] };
      },
      { refreshMs: 60_000, logger },
    );
    const failing = cache.refresh();
    const waiting = cache.refresh();
    await expect(failing).rejects.toThrow('database away');
    await expect(waiting).resolves.toBeUndefined();
    expect(calls).toBe(2);
    expect(cache.loaded).toBe(true);
  });
});
