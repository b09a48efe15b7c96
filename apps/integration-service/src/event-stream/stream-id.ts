/**
 * Positions in a Redis Stream (`<ms>-<seq>`, both unsigned 64-bit integers), as the event stream's
 * clients see them (the SSE `id:`, gRPC `last_event_id`). Compared as numbers, never as strings.
 */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_U64 = 2n ** 64n - 1n;

export interface StreamPosition {
  ms: bigint;
  seq: bigint;
}

/** The position, or undefined when the text is not a Redis Stream id within 64-bit range. */
export function parseStreamId(text: string): StreamPosition | undefined {
  const match = STREAM_ID.exec(text);
  if (!match) return undefined;
  const ms = BigInt(match[1] ?? '0');
  const seq = BigInt(match[2] ?? '0');
  return ms <= MAX_U64 && seq <= MAX_U64 ? { ms, seq } : undefined;
}

const ZERO: StreamPosition = { ms: 0n, seq: 0n };

/** Negative, 0 or positive like a sort comparator (an invalid id counts as 0-0). */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a) ?? ZERO;
  const y = parseStreamId(b) ?? ZERO;
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

/** The later of two ids. */
export function maxStreamId(a: string, b: string): string {
  return compareStreamIds(a, b) >= 0 ? a : b;
}

/** Milliseconds since the epoch of an id (its first part; 0 for an invalid id). */
export function streamIdTime(id: string): number {
  return Number((parseStreamId(id) ?? ZERO).ms);
}
