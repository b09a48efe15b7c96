import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const options = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };
  const middle = () => 0.5;

  it('When attempts grow, then the delay doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 7, 8, 50].map((n) => backoffDelay(n, options, middle))).toEqual([
      1000, 2000, 4000, 8000, 60_000, 60_000, 60_000,
    ]);
  });

  it('When jitter is applied, then the delay stays within ±jitter of the nominal value', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(3200);
    expect(backoffDelay(3, options, () => 0.999999)).toBe(4800);
  });
});
