import type { OcrLine } from './ocr-engine.js';
import { OCR_TRUNCATION_MARKER, summariseOcr } from './summarise-ocr.js';

function line(text: string, y0: number, options: { x0?: number; confidence?: number } = {}): OcrLine {
  const x0 = options.x0 ?? 10;
  return { text, confidence: options.confidence ?? 90, bbox: { x0, y0, x1: x0 + 200, y1: y0 + 20 } };
}

describe('summariseOcr', () => {
  it('When lines come out of order, then they are summarised top to bottom and left to right within a row', () => {
    const lines = [
      line('Footer', 300),
      line('1234 EUR', 102, { x0: 400 }),
      line('Title', 10),
      line('Total', 100),
    ];
    expect(summariseOcr({ lines }, { maxChars: 1000 }).text).toBe('Title\nTotal\n1234 EUR\nFooter');
  });

  it('When a line has tabs, newlines and runs of spaces, then its whitespace collapses to single spaces', () => {
    const lines = [line('  Invoice \t total\n\n1234   EUR  ', 10), line(' \u0000 ', 50)];
    const summary = summariseOcr({ lines }, { maxChars: 1000 });
    expect(summary.text).toBe('Invoice total 1234 EUR');
    expect(summary.keptLines).toBe(1);
  });

  it('When a line is below the confidence threshold, then it is dropped and counted', () => {
    const lines = [line('clear text', 10, { confidence: 91 }), line('~~ noise ~~', 50, { confidence: 35 })];
    const summary = summariseOcr({ lines }, { maxChars: 1000 });
    expect(summary).toEqual({ text: 'clear text', truncated: false, keptLines: 1, droppedLines: 1 });
  });

  it('When the threshold is given, then it replaces the default of 60', () => {
    const lines = [line('maybe text', 10, { confidence: 50 })];
    expect(summariseOcr({ lines }, { maxChars: 1000 }).text).toBe('');
    expect(summariseOcr({ lines }, { maxChars: 1000, minLineConfidence: 40 }).text).toBe('maybe text');
  });

  it('When the text is longer than maxChars, then it is cut at a word boundary and ends with the marker', () => {
    const lines = [line('alpha beta gamma delta epsilon zeta eta theta iota kappa lambda', 10)];
    const maxChars = OCR_TRUNCATION_MARKER.length + 1 + 20;
    const summary = summariseOcr({ lines }, { maxChars });
    expect(summary.truncated).toBe(true);
    expect(summary.text).toBe(`alpha beta gamma\n${OCR_TRUNCATION_MARKER}`);
    expect(summary.text.length).toBeLessThanOrEqual(maxChars);
  });

  it('When the cut falls exactly after a word, then that word is kept whole', () => {
    const lines = [line('alpha beta gamma delta epsilon zeta eta theta iota', 10)];
    const maxChars = OCR_TRUNCATION_MARKER.length + 1 + 'alpha beta'.length;
    expect(summariseOcr({ lines }, { maxChars }).text).toBe(`alpha beta\n${OCR_TRUNCATION_MARKER}`);
  });

  it('When a single word is longer than the budget, then it is cut hard rather than dropped', () => {
    const lines = [line('x'.repeat(500), 10)];
    const maxChars = 100;
    const summary = summariseOcr({ lines }, { maxChars });
    expect(summary.text).toBe(
      `${'x'.repeat(maxChars - OCR_TRUNCATION_MARKER.length - 1)}\n${OCR_TRUNCATION_MARKER}`,
    );
    expect(summary.text).toHaveLength(maxChars);
  });

  it('When the text fits exactly, then it is not truncated', () => {
    const lines = [line('a'.repeat(40), 10)];
    expect(summariseOcr({ lines }, { maxChars: 40 })).toMatchObject({
      text: 'a'.repeat(40),
      truncated: false,
    });
  });

  it('When maxChars leaves no room for the marker, then it throws a RangeError', () => {
    expect(() => summariseOcr({ lines: [] }, { maxChars: 5 })).toThrow(RangeError);
  });
});
