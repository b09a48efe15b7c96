import type { OcrLine, OcrResult } from './ocr-engine.js';

export interface SummariseOcrOptions {
  /** Hard limit on the summary's length, marker included. */
  maxChars: number;
  /** Lines the engine was less sure of than this (0–100) are left out. Default 60. */
  minLineConfidence?: number;
}

export interface OcrSummary {
  text: string;
  truncated: boolean;
  keptLines: number;
  droppedLines: number;
}

export const OCR_TRUNCATION_MARKER = '[… OCR text truncated]';
const DEFAULT_MIN_LINE_CONFIDENCE = 60;

/**
 * The text of a screenshot as model context: confident lines only, in reading order (top to bottom;
 * lines sharing a row left to right), whitespace collapsed, cut at a word boundary with an explicit
 * marker so the model knows text is missing. Pure: same input, same output.
 */
export function summariseOcr(result: Pick<OcrResult, 'lines'>, options: SummariseOcrOptions): OcrSummary {
  const { maxChars, minLineConfidence = DEFAULT_MIN_LINE_CONFIDENCE } = options;
  if (!Number.isInteger(maxChars) || maxChars <= OCR_TRUNCATION_MARKER.length + 1) {
    throw new RangeError(`maxChars must be an integer above ${OCR_TRUNCATION_MARKER.length + 1}`);
  }
  const kept = result.lines
    .filter((line) => line.confidence >= minLineConfidence)
    .map((line) => ({ ...line, text: normaliseWhitespace(line.text) }))
    .filter((line) => line.text !== '');
  const text = inReadingOrder(kept)
    .map((line) => line.text)
    .join('\n');
  const summary = { keptLines: kept.length, droppedLines: result.lines.length - kept.length };
  if (text.length <= maxChars) return { text, truncated: false, ...summary };
  return { text: truncateAtWord(text, maxChars), truncated: true, ...summary };
}

function normaliseWhitespace(text: string): string {
  return text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
}

/** Groups lines into rows (a line whose vertical centre falls inside a row's band joins it). */
function inReadingOrder(lines: OcrLine[]): OcrLine[] {
  const byTop = [...lines].sort((a, b) => a.bbox.y0 - b.bbox.y0 || a.bbox.x0 - b.bbox.x0);
  const rows: { top: number; bottom: number; lines: OcrLine[] }[] = [];
  for (const line of byTop) {
    const centre = (line.bbox.y0 + line.bbox.y1) / 2;
    const row = rows.at(-1);
    if (row && centre >= row.top && centre <= row.bottom) row.lines.push(line);
    else rows.push({ top: line.bbox.y0, bottom: line.bbox.y1, lines: [line] });
  }
  return rows.flatMap((row) => row.lines.sort((a, b) => a.bbox.x0 - b.bbox.x0));
}

function truncateAtWord(text: string, maxChars: number): string {
  const budget = maxChars - OCR_TRUNCATION_MARKER.length - 1;
  // The character just past the budget tells whether the cut already falls between two words.
  const head = text.slice(0, budget + 1);
  const boundary = head.search(/\s\S*$/);
  const cut = boundary > 0 ? head.slice(0, boundary) : text.slice(0, budget);
  return `${cut.trimEnd()}\n${OCR_TRUNCATION_MARKER}`;
}
