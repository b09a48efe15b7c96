import type Tesseract from 'tesseract.js';
import type { OcrLine, OcrResult } from './ocr-engine.js';

/** Maps tesseract.js's page (blocks → paragraphs → lines → words) to our plain, JSON-safe result. */
export function toOcrResult(page: Tesseract.Page, durationMs: number): OcrResult {
  const lines: OcrLine[] = [];
  const wordConfidences: number[] = [];
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const words = line.words.filter((word) => word.text.trim() !== '');
        if (words.length === 0) continue;
        wordConfidences.push(...words.map((word) => word.confidence));
        const { x0, y0, x1, y1 } = line.bbox;
        lines.push({ text: line.text.trim(), confidence: round(line.confidence), bbox: { x0, y0, x1, y1 } });
      }
    }
  }
  return {
    text: lines.map((line) => line.text).join('\n'),
    confidence: round(mean(wordConfidences)),
    words: wordConfidences.length,
    lines,
    durationMs: Math.round(durationMs),
  };
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
