/** A user's conversation session (plain data; the repositories map rows to it). */
export interface Session {
  id: string;
  userId: string;
  title: string;
  settings: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  lastActivityAt: Date;
}

export const MESSAGE_ROLES = ['user', 'assistant', 'system'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** How the reply is asked for: a unary call, a stream, or queued work answered later (202). */
export const MESSAGE_MODES = ['sync', 'stream', 'async'] as const;
export type MessageMode = (typeof MESSAGE_MODES)[number];

/** `stored`: a user's message as received; the others describe assistant replies (routing). */
export type MessageStatus = 'stored' | 'pending' | 'completed' | 'failed';

export interface Message {
  id: string;
  sessionId: string;
  userId: string;
  role: MessageRole;
  content: string;
  model: string;
  mode: MessageMode;
  attachmentIds: string[];
  status: MessageStatus;
  createdAt: Date;
  /** An assistant reply: the user message it answers. */
  replyTo: string | null;
  /** A failed reply: why (an AppError code). */
  errorCode: string | null;
  /** A completed reply: what it cost (AI gateway usage; cost in US dollars as a decimal string). */
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: string | null;
}

/** A completed reply's content as the AI gateway gave it. */
export interface ReplyContent {
  content: string;
  /** The model version that answered. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: string;
}

/** What the session state keeps of an attachment (never its bytes nor its full OCR text). */
export interface AttachmentSummary {
  id: string;
  contentType: string;
  status: 'pending' | 'processed' | 'failed';
  width: number | null;
  height: number | null;
  /** Length of the recognised text (0 until OCR has run). */
  ocrTextLength: number;
  createdAt: Date;
}

/** A keyset position: the last row of the previous page. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Empty when there is no further page. */
  nextPageToken: string;
}
