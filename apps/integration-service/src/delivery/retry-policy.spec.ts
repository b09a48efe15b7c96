import { parseDuration, parseDurationList } from './duration.js';
import { nextAttemptDelay } from './retry-policy.js';

const policy = { schedule: parseDurationList('0,5s,5m,30m,2h,5h,10h,10h')!, retryAfterMaxMs: 3_600_000 };

describe('retry policy', () => {
  it('When attempts fail, then they follow the schedule and stop after its last entry', () => {
    expect([1, 2, 3, 7].map((made) => nextAttemptDelay(policy, made))).toEqual([
      5_000, 300_000, 1_800_000, 36_000_000,
    ]);
    expect(nextAttemptDelay(policy, 8)).toBeUndefined();
  });

  it('When the receiver sends Retry-After, then the next attempt is never earlier, up to the cap', () => {
    expect(nextAttemptDelay(policy, 1, 60_000)).toBe(60_000);
    expect(nextAttemptDelay(policy, 2, 60_000)).toBe(300_000);
    expect(nextAttemptDelay(policy, 1, 86_400_000)).toBe(3_600_000);
  });

  it('When durations are written with units, then they are read as milliseconds; bad ones are refused', () => {
    expect(['0', '250ms', '5s', '5m', '2h', '5d', '1.5s', '7'].map(parseDuration)).toEqual([
      0, 250, 5_000, 300_000, 7_200_000, 432_000_000, 1_500, 7_000,
    ]);
    expect(parseDuration('5 weeks')).toBeUndefined();
    expect(parseDurationList('0,5s,x')).toBeUndefined();
  });
});
