import type { teAiV1 } from '@te/grpc';
import { summariseOcr } from '../ocr/summarise-ocr.js';
import type { ImageInput } from './routing-rules.js';

/**
 * Token estimate, a documented heuristic rather than a tokenizer (the model behind an alias is not
 * known here): ceil(characters / 4) per text, plus MESSAGE_OVERHEAD_TOKENS per chat message (role and
 * separators) and IMAGE_TOKENS per image (about what a 1024×1024 image costs on common vision models).
 * It errs on the generous side; the AI gateway has the final word.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;
export const IMAGE_TOKENS = 1_000;
export const CHARS_PER_TOKEN = 4;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateMessageTokens(message: teAiV1.ChatMessage): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const part of message.content ?? []) {
    if (part.text !== undefined && part.text !== null) tokens += estimateTextTokens(part.text);
    if (part.image) tokens += IMAGE_TOKENS;
  }
  return tokens;
}

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

export interface ContextAttachment {
  /** Recognised text (empty while OCR is pending or when it failed). */
  ocrText: string;
  /** The stored image, when images go in as images. */
  image?: { mediaType: string; data: Buffer };
}

export interface ContextWindowInput {
  systemPrompt: string;
  /** The message being answered: always sent, whatever the budget. */
  question: string;
  attachments: ContextAttachment[];
  images: ImageInput;
  /** Earlier turns of the session, oldest first (the question excluded). */
  history: Turn[];
  model: { contextWindow: number; maxOutputTokens: number };
  /** Most characters of OCR text per screenshot (before the budget shrinks it further). */
  maxOcrChars: number;
}

export interface ContextWindow {
  /** System prompt first, then the kept turns oldest first, then the question. */
  messages: teAiV1.ChatMessage[];
  estimatedTokens: number;
  /** Prompt budget: the context window minus the answer's reserve. */
  budget: number;
  keptTurns: number;
  droppedTurns: number;
}

const text = (value: string): teAiV1.ContentPart => ({ text: value });

/**
 * The messages sent to the AI gateway, within the model's budget (context_window − max_output_tokens):
 * the system prompt, the question with its screenshots (image parts, or their OCR text summarised by
 * summariseOcr, shrunk to what the budget leaves), then earlier turns newest first until the next one
 * would not fit. Older turns are dropped, and the system prompt says how many, so the model knows the
 * conversation started earlier (a cheap stand-in for a summary). Pure.
 */
export function assembleContext(input: ContextWindowInput): ContextWindow {
  const budget = Math.max(0, input.model.contextWindow - input.model.maxOutputTokens);
  const systemTokens = estimateTextTokens(input.systemPrompt) + MESSAGE_OVERHEAD_TOKENS;
  const question = questionMessage(input, budget - systemTokens);
  let used = systemTokens + estimateMessageTokens(question);

  // Room for the "N earlier turns are not shown" note, so it fits whenever turns are dropped.
  const noteReserve = input.history.length ? 16 : 0;
  const kept: teAiV1.ChatMessage[] = [];
  for (const turn of [...input.history].reverse()) {
    const message = { role: turn.role, content: [text(turn.content)] };
    const cost = estimateMessageTokens(message);
    if (used + cost > budget - noteReserve) break;
    kept.unshift(message);
    used += cost;
  }
  const droppedTurns = input.history.length - kept.length;
  let system = input.systemPrompt;
  const note = `\n\n(${droppedTurns} earlier turns of this conversation are not shown.)`;
  if (droppedTurns > 0 && used + estimateTextTokens(note) <= budget) {
    system += note;
    used += estimateTextTokens(note);
  }
  return {
    messages: [{ role: 'system', content: [text(system)] }, ...kept, question],
    estimatedTokens: used,
    budget,
    keptTurns: kept.length,
    droppedTurns,
  };
}

/** The question with its screenshots; OCR text shares what is left once the question is counted. */
function questionMessage(input: ContextWindowInput, available: number): teAiV1.ChatMessage {
  const parts: teAiV1.ContentPart[] = [text(input.question)];
  if (input.images === 'image') {
    for (const attachment of input.attachments) {
      if (attachment.image) parts.push({ image: attachment.image });
    }
    return { role: 'user', content: parts };
  }
  const left = available - estimateTextTokens(input.question) - MESSAGE_OVERHEAD_TOKENS;
  const perScreenshot = Math.floor((left * CHARS_PER_TOKEN) / Math.max(1, input.attachments.length)) - 40;
  const maxChars = Math.min(input.maxOcrChars, perScreenshot);
  // The screen's text first, the question last: models (and the offline explainer, which takes the
  // last text part as the question) read the material before what is asked about it.
  const screens = input.attachments.map((attachment, index) => {
    const header = `[Screenshot ${index + 1}, text recognised on it]`;
    return text(`${header}\n${ocrText(attachment.ocrText, maxChars)}\n\n`);
  });
  return { role: 'user', content: [...screens, text(input.question)] };
}

function ocrText(raw: string, maxChars: number): string {
  if (!raw.trim()) return '(no text recognised)';
  // summariseOcr works on lines with positions; stored text is already in reading order.
  const lines = raw.split('\n').map((line, index) => ({
    text: line,
    confidence: 100,
    bbox: { x0: 0, y0: index * 2, x1: 1, y1: index * 2 + 1 },
  }));
  const minimum = 30;
  if (maxChars < minimum) return '(text left out: no room in the context window)';
  return summariseOcr({ lines }, { maxChars }).text;
}
