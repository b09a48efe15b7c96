/**
 * A cached answer replayed as a stream: the text cut into up to `pieces` deltas at word boundaries
 * (never inside a UTF-16 surrogate pair), so a client renders it as it renders a live answer.
 * Joined, the pieces are the text exactly.
 */
export function replayChunks(text: string, pieces = 4): string[] {
  if (text.length === 0) return [];
  const target = Math.ceil(text.length / pieces);
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + target);
    // Extend to the next space so words stay whole (or to the end).
    while (end < text.length && text[end - 1] !== ' ') end++;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}
