import { messageText, type ChatMessage } from './provider.js';

/**
 * The local provider's "model": no understanding, only term overlap. It splits the latest user turn
 * into question (its last text part, or last paragraph) and context (the rest, plus the system
 * message and earlier user turns), scores each context line or sentence by how many distinct words of
 * the question it contains, and quotes the best few in their original order. Pure and deterministic.
 */
export const LOCAL_PREFACE =
  "I am TE-explico's built-in offline model. I do not understand the screen: I quote the lines of its text " +
  'that share the most words with your question, and you judge whether they answer it.';

const MAX_QUOTES = 3;
const MAX_QUOTE_LENGTH = 300;
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can could did do does for from had has have how i if in into is it its ' +
    'me my no not of on or so that the their them then there these this those to was we were what when ' +
    'where which who why will with would you your about please tell explain mean means say says'
  ).split(' '),
);

export interface ExtractiveAnswer {
  text: string;
  /** How many context passages were quoted (0 when nothing matched). */
  quoted: number;
}

export function answerExtractively(messages: readonly ChatMessage[]): ExtractiveAnswer {
  const { question, context, hasImages } = splitConversation(messages);
  const imageNote = hasImages ? ' I cannot see images; I only read the text that comes with them.' : '';
  if (!question.trim())
    return {
      text: `${LOCAL_PREFACE}${imageNote}\n\nAsk a question and I will quote the screen text that matches it.`,
      quoted: 0,
    };
  const passages = splitPassages(context);
  if (passages.length === 0)
    return {
      text: `${LOCAL_PREFACE}${imageNote}\n\nThis conversation has no screen text for me to quote, so I cannot answer.`,
      quoted: 0,
    };
  const terms = new Set(words(question));
  const ranked = passages
    .map((passage, index) => ({ passage, index, score: overlap(terms, passage) }))
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, MAX_QUOTES)
    .sort((a, b) => a.index - b.index);
  if (ranked.length === 0)
    return {
      text: `${LOCAL_PREFACE}${imageNote}\n\nNo line of the screen text shares a word with your question. It begins: "${clip(passages[0])}"`,
      quoted: 0,
    };
  const quotes = ranked.map((entry) => `- "${clip(entry.passage)}"`).join('\n');
  return {
    text: `${LOCAL_PREFACE}${imageNote}\n\nThe most relevant screen text:\n${quotes}`,
    quoted: ranked.length,
  };
}

function splitConversation(messages: readonly ChatMessage[]) {
  const hasImages = messages.some((message) => message.content.some((part) => part.type === 'image'));
  const lastUser = messages.findLastIndex((message) => message.role === 'user');
  const context: string[] = [];
  messages.forEach((message, index) => {
    if (index !== lastUser && message.role !== 'assistant') context.push(messageText(message));
  });
  if (lastUser === -1) return { question: '', context: context.join('\n'), hasImages };
  const parts = messages[lastUser].content.flatMap((part) => (part.type === 'text' ? [part.text] : []));
  let question = parts.at(-1) ?? '';
  context.push(...parts.slice(0, -1));
  const paragraphs = question.split(/\n\s*\n/).filter((paragraph) => paragraph.trim());
  if (paragraphs.length > 1) {
    question = paragraphs[paragraphs.length - 1];
    context.push(...paragraphs.slice(0, -1));
  }
  return { question, context: context.join('\n'), hasImages };
}

// Lines first (OCR text is line-oriented), then sentences within a line.
function splitPassages(context: string): string[] {
  const seen = new Set<string>();
  const passages: string[] = [];
  for (const line of context.split(/\r?\n/)) {
    for (const sentence of line.split(/(?<=[.!?])\s+/)) {
      const passage = sentence.replace(/\s+/g, ' ').trim();
      if (words(passage).length === 0 || seen.has(passage.toLowerCase())) continue;
      seen.add(passage.toLowerCase());
      passages.push(passage);
    }
  }
  return passages;
}

function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word))
    .map(stem);
}

// Plural and possessive "s" only: enough to match "errors" with "error" without a stemmer's surprises.
function stem(word: string): string {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

function overlap(terms: Set<string>, passage: string): number {
  const present = new Set(words(passage));
  let score = 0;
  for (const term of terms) if (present.has(term)) score++;
  return score;
}

function clip(passage: string): string {
  return passage.length > MAX_QUOTE_LENGTH ? `${passage.slice(0, MAX_QUOTE_LENGTH - 1)}…` : passage;
}
