import { microsToUsd, usdToMicros } from './usage-cost.js';

describe('usage cost (micro-USD, no floating point)', () => {
  it('When decimal strings are parsed, then each becomes the exact number of micro-dollars', () => {
    expect(usdToMicros('0')).toBe(0n);
    expect(usdToMicros('0.000001')).toBe(1n);
    expect(usdToMicros('0.1')).toBe(100_000n);
    expect(usdToMicros('12.5')).toBe(12_500_000n);
    expect(usdToMicros('999999999999.999999')).toBe(999_999_999_999_999_999n);
  });

  it('When the text is not a plain non-negative decimal with at most 6 fraction digits, then it is refused', () => {
    for (const bad of [
      '',
      '-1',
      '0.0000001',
      '1e-6',
      '01',
      '.5',
      '5.',
      ' 1',
      '1,5',
      '0x10',
      'NaN',
      '1000000000000',
    ]) {
      expect(usdToMicros(bad)).toBeUndefined();
    }
  });

  it('When sums are formatted, then they keep six fractional digits and exact values (0.1 + 0.2 = 0.3)', () => {
    expect(microsToUsd(usdToMicros('0.1')! + usdToMicros('0.2')!)).toBe('0.300000');
    expect(microsToUsd(3n)).toBe('0.000003');
    expect(microsToUsd(1_001_250n)).toBe('1.001250');
    expect(microsToUsd(0n)).toBe('0.000000');
    expect(microsToUsd(-5n)).toBe('-0.000005');
  });
});
