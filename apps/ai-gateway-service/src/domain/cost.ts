/**
 * Inference cost, exactly: prices are decimal strings (US dollars per million tokens, ≤ 6 fraction
 * digits, as stored in NUMERIC(14,6)), turned into integers and multiplied as bigint. Nothing passes
 * through a binary float. The result is whole micro-dollars (rounded half up), the unit user-service
 * sums (docs/events.md `cost_usd`: ≤ 6 fraction digits).
 */
const MICROS_PER_USD = 1_000_000n;
const FRACTION_DIGITS = 6;
const PRICE = /^(0|[1-9]\d{0,7})(?:\.(\d{1,6}))?$/;

/** "0.15" → 150000n (micro-dollars per million tokens); undefined unless a plain decimal ≥ 0, ≤ 6 fraction digits. */
export function priceToMicros(price: string): bigint | undefined {
  const match = PRICE.exec(price);
  if (!match) return undefined;
  const [, units, fraction = ''] = match;
  return BigInt(units) * MICROS_PER_USD + BigInt(fraction.padEnd(FRACTION_DIGITS, '0'));
}

export function isValidPrice(price: string): boolean {
  return priceToMicros(price) !== undefined;
}

/** Whole micro-dollars for these tokens at these per-million prices, rounded half up. */
export function costMicros(
  usage: { inputTokens: number; outputTokens: number },
  prices: { inputPricePerMillion: string; outputPricePerMillion: string },
): bigint {
  const input = priceToMicros(prices.inputPricePerMillion);
  const output = priceToMicros(prices.outputPricePerMillion);
  if (input === undefined || output === undefined) throw new Error('model version has an invalid price');
  // tokens × (µ$ per million tokens) = millionths of a micro-dollar.
  const scaled = BigInt(usage.inputTokens) * input + BigInt(usage.outputTokens) * output;
  return (scaled + MICROS_PER_USD / 2n) / MICROS_PER_USD;
}

/** 1250n → "0.001250" (always 6 fraction digits). */
export function microsToUsd(micros: bigint): string {
  const units = micros / MICROS_PER_USD;
  const fraction = (micros % MICROS_PER_USD).toString().padStart(FRACTION_DIGITS, '0');
  return `${units}.${fraction}`;
}
