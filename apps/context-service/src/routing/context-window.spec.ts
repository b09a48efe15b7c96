import {
  assembleContext,
  estimateMessageTokens,
  IMAGE_TOKENS,
  type ContextWindowInput,
} from './context-window.js';

const base: ContextWindowInput = {
  systemPrompt: 'You are TE-explico.',
  question: 'What does this error mean?',
  attachments: [],
  images: 'ocr_text',
  history: [],
  model: { contextWindow: 1_000, maxOutputTokens: 200 },
  maxOcrChars: 4_000,
};
const textOf = (message: { content?: { text?: string | null }[] | null }) =>
  (message.content ?? []).map((part) => part.text ?? '').join('');

describe('assembleContext', () => {
  it('When the history is long, then the budget holds, the newest turns are kept and the question is last', () => {
    const history = Array.from({ length: 60 }, (_, i) => ({
      role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant',
      content: `turn ${i} ${'x'.repeat(100)}`,
    }));

    const window = assembleContext({ ...base, history });

    expect(window.budget).toBe(800);
    expect(window.messages.reduce((sum, m) => sum + estimateMessageTokens(m), 0)).toBeLessThanOrEqual(800);
    expect(window.estimatedTokens).toBeLessThanOrEqual(800);
    expect(window.droppedTurns).toBeGreaterThan(0);
    expect(window.keptTurns + window.droppedTurns).toBe(60);
    expect(window.messages[0]!.role).toBe('system');
    expect(textOf(window.messages[0]!)).toContain(`${window.droppedTurns} earlier turns`);
    expect(textOf(window.messages.at(-2)!)).toMatch(/^turn 59 /);
    expect(textOf(window.messages.at(-1)!)).toBe('What does this error mean?');
    const kept = window.messages.slice(1, -1).map((m) => Number(/^turn (\d+)/.exec(textOf(m))![1]));
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 60 - kept.length + i));
  });

  it('When the question alone exceeds the budget, then it is still sent', () => {
    const question = 'q'.repeat(8_000);
    const window = assembleContext({ ...base, question, history: [{ role: 'user', content: 'old' }] });
    expect(textOf(window.messages.at(-1)!)).toBe(question);
    expect(window.keptTurns).toBe(0);
  });

  it('When screenshots go in as OCR text, then their text comes before the question (the last part), shrunk to the budget', () => {
    const ocrText = Array.from({ length: 400 }, (_, i) => `line ${i} of the screen`).join('\n');
    const window = assembleContext({ ...base, attachments: [{ ocrText }] });
    const last = window.messages.at(-1)!;
    expect(last.content!.at(-1)).toEqual({ text: base.question });
    const question = textOf(last);
    expect(question).toMatch(/^\[Screenshot 1, text recognised on it\]\nline 0 of the screen/);
    expect(question).toContain('[… OCR text truncated]');
    expect(window.estimatedTokens).toBeLessThanOrEqual(window.budget);
  });

  it('When screenshots go in as images, then the question carries image parts counted at IMAGE_TOKENS', () => {
    const image = { mediaType: 'image/png', data: Buffer.from('png') };
    const window = assembleContext({
      ...base,
      images: 'image',
      model: { contextWindow: 5_000, maxOutputTokens: 500 },
      attachments: [{ ocrText: 'ignored', image }],
    });
    const last = window.messages.at(-1)!;
    expect(last.content).toEqual([{ text: 'What does this error mean?' }, { image }]);
    expect(estimateMessageTokens(last)).toBeGreaterThan(IMAGE_TOKENS);
  });
});
