import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  test('When the predicate becomes truthy, then waitFor resolves with its value', async () => {
    let calls = 0;

    const value = await waitFor(() => (++calls >= 3 ? { found: calls } : undefined), { intervalMs: 1 });

    expect(value).toEqual({ found: 3 });
  });

  test('When the predicate throws for a while, then those attempts count as not yet', async () => {
    let calls = 0;

    const value = await waitFor(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('not ready');
        return 'ready';
      },
      { intervalMs: 1 },
    );

    expect(value).toBe('ready');
  });

  test('When time runs out, then the error names what was awaited and the last error', async () => {
    const started = Date.now();

    await expect(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 120, intervalMs: 20, description: 'the consumer to start' },
      ),
    ).rejects.toThrow(
      /timed out after 120 ms \(\d+ attempts\) waiting for the consumer to start; last error: connection refused/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
