import { costMicros, microsToUsd, priceToMicros } from './cost.js';

describe('inference cost', () => {
  it('When prices have fractions a float cannot hold, then the cost is exact', () => {
    // 0.1 + 0.2 per token in floats is 0.30000000000000004; here it is 0.3 dollars exactly.
    const micros = costMicros(
      { inputTokens: 1_000_000, outputTokens: 1_000_000 },
      { inputPricePerMillion: '0.1', outputPricePerMillion: '0.2' },
    );
    expect(micros).toBe(300_000n);
    expect(microsToUsd(micros)).toBe('0.300000');
  });

  it('When the cost falls between micro-dollars, then it is rounded half up', () => {
    // 812 × 0.15 + 9 × 0.6 = 121.8 + 5.4 = 127.2 µ$ → 127
    expect(
      costMicros(
        { inputTokens: 812, outputTokens: 9 },
        { inputPricePerMillion: '0.15', outputPricePerMillion: '0.6' },
      ),
    ).toBe(127n);
    // 5 × 0.1 = 0.5 µ$ → 1
    expect(
      costMicros(
        { inputTokens: 5, outputTokens: 0 },
        { inputPricePerMillion: '0.1', outputPricePerMillion: '0' },
      ),
    ).toBe(1n);
  });

  it('When a price is not a plain decimal with at most 6 fraction digits, then it is refused', () => {
    expect(priceToMicros('2.5')).toBe(2_500_000n);
    expect(priceToMicros('0.000001')).toBe(1n);
    for (const bad of ['-1', '1e3', '0.0000001', '', '01.5', 'NaN'])
      expect(priceToMicros(bad)).toBeUndefined();
  });

  it('When formatted, then the text has 6 fraction digits and no exponent', () => {
    expect(microsToUsd(0n)).toBe('0.000000');
    expect(microsToUsd(1n)).toBe('0.000001');
    expect(microsToUsd(123_456_789n)).toBe('123.456789');
  });
});
