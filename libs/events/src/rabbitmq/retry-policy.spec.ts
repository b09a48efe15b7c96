import { decideAfterFailure, readAttempts, validateRetryDelays } from './retry-policy.js';

describe('retry policy', () => {
  const delays = [1000, 5000, 30000];

  it('When a first delivery fails, then it goes to retry queue 1 with the first delay and attempts 1', () => {
    expect(decideAfterFailure(0, delays)).toEqual({ action: 'retry', retry: 1, delayMs: 1000, attempts: 1 });
  });

  it('When the third attempt fails, then it goes to the last retry queue with the last delay', () => {
    expect(decideAfterFailure(2, delays)).toEqual({ action: 'retry', retry: 3, delayMs: 30000, attempts: 3 });
  });

  it('When the attempt after the last retry fails, then it is dead-lettered with the total attempt count', () => {
    expect(decideAfterFailure(3, delays)).toEqual({ action: 'dead-letter', attempts: 4 });
  });

  it('When retries are disabled, then the first failure is dead-lettered', () => {
    expect(decideAfterFailure(0, [])).toEqual({ action: 'dead-letter', attempts: 1 });
  });

  it('When the attempts header is missing, garbled or a string, then it is read safely', () => {
    expect(readAttempts(undefined)).toBe(0);
    expect(readAttempts({ 'x-attempts': 'x' })).toBe(0);
    expect(readAttempts({ 'x-attempts': -2 })).toBe(0);
    expect(readAttempts({ 'x-attempts': '2' })).toBe(2);
    expect(readAttempts({ 'x-attempts': 3 })).toBe(3);
  });

  it('When delays are not positive integers, then validation throws', () => {
    expect(() => validateRetryDelays([100, 0])).toThrow(RangeError);
    expect(() => validateRetryDelays([1.5])).toThrow(RangeError);
    expect(() => validateRetryDelays(Array(11).fill(1))).toThrow(RangeError);
    expect(() => validateRetryDelays([])).not.toThrow();
  });
});
