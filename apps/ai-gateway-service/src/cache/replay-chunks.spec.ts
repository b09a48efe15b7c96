import { replayChunks } from './replay-chunks.js';

describe('replaying a cached answer as a stream', () => {
  it('When the text has words, then it is cut into a few pieces at spaces that join back exactly', () => {
    const text = 'It means the disk is full, so free some space and try again.';
    const chunks = replayChunks(text);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThanOrEqual(4);
    expect(chunks.join('')).toBe(text);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.endsWith(' ')).toBe(true);
  });

  it('When the text is one long word or has astral characters, then no piece splits a character', () => {
    expect(replayChunks('x'.repeat(40))).toEqual(['x'.repeat(40)]);
    const text = '😀😀 😀😀 😀😀 😀😀 😀😀 😀😀';
    const chunks = replayChunks(text);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(text);
    for (const chunk of chunks) expect(chunk.isWellFormed()).toBe(true);
  });

  it('When the text is empty, then there is no delta', () => {
    expect(replayChunks('')).toEqual([]);
  });
});
