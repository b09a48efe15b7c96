/**
 * Money in usage analytics is an integer count of micro-USD (millionths of a dollar), parsed from and
 * formatted to decimal strings without ever passing through a binary float: 0.1 + 0.2 must stay 0.3,
 * and a million requests at $0.000001 must cost exactly $1.000000.
 */
export const MICROS_PER_USD = 1_000_000n;
export const USD_FRACTION_DIGITS = 6;

// Non-negative, at most 6 fractional digits; at most 12 integer digits keeps any sum far inside int64.
const USD_DECIMAL = /^(0|[1-9]\d{0,11})(?:\.(\d{1,6}))?$/;

/** "0.00125" → 1250n; undefined when the text is not a plain non-negative decimal with ≤ 6 fraction digits. */
export function usdToMicros(text: string): bigint | undefined {
  const match = USD_DECIMAL.exec(text);
  if (!match) return undefined;
  const [, units, fraction = ''] = match;
  return BigInt(units) * MICROS_PER_USD + BigInt(fraction.padEnd(USD_FRACTION_DIGITS, '0'));
}

/** 1250n → "0.001250" (always 6 fractional digits, as the API documents). */
export function microsToUsd(micros: bigint): string {
  const sign = micros < 0n ? '-' : '';
  const magnitude = micros < 0n ? -micros : micros;
  const units = magnitude / MICROS_PER_USD;
  const fraction = (magnitude % MICROS_PER_USD).toString().padStart(USD_FRACTION_DIGITS, '0');
  return `${sign}${units}.${fraction}`;
}
