import type { EventEnvelope } from '@te/events';
import type {
  AttachmentSummary,
  Cursor,
  Message,
  MessageMode,
  ReplyContent,
  Session,
} from './conversation.js';

/** Builds the events a change writes to the outbox in its own transaction. */
export type EventsOf<T> = (changed: T) => EventEnvelope[];

/** Sessions in PostgreSQL. Every method that takes a user id only ever sees that user's rows. */
export interface SessionStore {
  create(
    input: { userId: string; title: string; settings: Record<string, unknown> },
    events: EventsOf<Session>,
  ): Promise<Session>;
  findOwned(userId: string, id: string): Promise<Session | undefined>;
  /** Newest first by (created_at, id), strictly after `after`; `limit` rows at most. */
  list(userId: string, page: { limit: number; after?: Cursor }): Promise<Session[]>;
  update(
    userId: string,
    id: string,
    changes: { title?: string; settings?: Record<string, unknown> },
  ): Promise<Session | undefined>;
  /**
   * Deletes the session (messages and attachments cascade); undefined when it is not the user's.
   * Answers the object keys its attachments referenced, read in the deleting transaction.
   */
  delete(userId: string, id: string, events: EventsOf<Session>): Promise<DeletedSessions | undefined>;
  /**
   * Deletes sessions whose last activity is before `cutoff`, at most `limit` of them, each with its
   * events in the same transaction; a session that saw activity meanwhile is kept.
   */
  deleteIdle(cutoff: Date, limit: number, events: EventsOf<Session>): Promise<DeletedSessions>;
  /** The state the cache keeps, read from the database (undefined: no such session). */
  loadState(sessionId: string, recentMessages: number): Promise<SessionState | undefined>;
}

/** Sessions that went, with the distinct object keys their attachments referenced. */
export interface DeletedSessions {
  sessions: Session[];
  objectKeys: string[];
}

/**
 * After a commit that deleted attachment rows: removes those of `objectKeys` no attachment row
 * references any more (content-addressed objects may serve several sessions of the user). Never
 * throws: a storage failure is logged (the user's prefix goes with the account anyway).
 */
export type ReleaseObjects = (objectKeys: string[]) => Promise<void>;

export interface NewMessage {
  userId: string;
  sessionId: string;
  content: string;
  model: string;
  mode: MessageMode;
  attachmentIds: string[];
  /** Store a pending assistant reply with it (async mode), in the same transaction. */
  withPendingReply?: boolean;
}

export type PostOutcome =
  | { kind: 'stored'; message: Message; reply?: Message }
  | { kind: 'session_not_found' }
  /** Indexes (in the request) of ids that are not attachments of this session. */
  | { kind: 'unknown_attachments'; indexes: number[] };

export interface MessageStore {
  /**
   * Stores a user message (and, when asked, its pending reply) and bumps the session's activity,
   * with their events, in one transaction.
   */
  post(
    input: NewMessage,
    events: (message: Message, reply?: Message) => EventEnvelope[],
  ): Promise<PostOutcome>;
  /** Any message by id (workers; no ownership check). */
  find(id: string): Promise<Message | undefined>;
  /** Up to `limit` messages of the session before `before`, oldest first. */
  history(sessionId: string, before: Cursor, limit: number): Promise<Message[]>;
  /**
   * Stores the completed reply to a user message, with its events; when a reply to it exists
   * already (a retried call), that one is returned and nothing is written.
   */
  saveReply(question: Message, reply: ReplyContent, events: EventsOf<Message>): Promise<Message>;
  /**
   * Completes (or fails, with an error code) a pending reply, with its events; undefined when it is
   * not pending any more (a redelivered job) or gone.
   */
  settleReply(
    replyId: string,
    outcome: { reply: ReplyContent } | { errorCode: string },
    events: EventsOf<Message>,
  ): Promise<Message | undefined>;
  /** Ids of pending replies asked for before `cutoff`, oldest first, at most `limit`. */
  stalePending(cutoff: Date, limit: number): Promise<string[]>;
  /** Oldest first by (created_at, id), strictly after `after`; undefined when the session is not the user's. */
  list(
    userId: string,
    sessionId: string,
    page: { limit: number; after?: Cursor },
  ): Promise<Message[] | undefined>;
}

/** What a conversation needs at hand: the session, its last messages, its attachments. */
export interface SessionState {
  session: Session;
  /** The most recent messages, oldest first. */
  recentMessages: Message[];
  attachments: AttachmentSummary[];
}

/**
 * The session state cache (Redis in production). The database stays the source of truth: a miss is
 * rebuilt from it, and a cache that cannot answer is skipped, never an error for the caller.
 */
export interface SessionStates {
  /** The state of one of the user's sessions (read-through); undefined when not theirs or missing. */
  get(userId: string, sessionId: string): Promise<SessionState | undefined>;
  /** Re-reads a session's state from the database after a write (drops it when the session is gone). */
  refresh(sessionId: string): Promise<void>;
  forget(sessionIds: string[]): Promise<void>;
}
