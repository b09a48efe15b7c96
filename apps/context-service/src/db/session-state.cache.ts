import type { Logger, Redis } from '@te/platform';
import type { AttachmentSummary, Message, Session } from '../domain/conversation.js';
import type { SessionState, SessionStates, SessionStore } from '../domain/ports.js';

export interface SessionStateCacheOptions {
  /** How many of the latest messages the state keeps (SESSION_STATE_RECENT_MESSAGES). */
  recentMessages: number;
  /** How long a state lives unread (SESSION_STATE_TTL_SECONDS); also bounds any staleness. */
  ttlSeconds: number;
  /** A Redis call slower than this counts as an outage for that request (the database answers). */
  timeoutMs?: number;
}

// Writes a state unless the session was deleted (tombstone) or a newer state is there already: a
// rebuild that read the database before a write must not overwrite the state that write stored.
const WRITE_IF_NEWER = `
if redis.call('HEXISTS', KEYS[1], 'deleted') == 1 then return 0 end
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/**
 * Session state (the session, its last messages, its attachments) cached in Redis as one hash per
 * session: `session-state:<id>` → { v: version, s: JSON } or { deleted: 1 } for a while after a
 * deletion. PostgreSQL is the source of truth: a miss is rebuilt from it (read-through), every write
 * re-reads it (never patches the cached copy), and when Redis is down or slow the request is served
 * from the database and the problem logged, never returned.
 */
export class SessionStateCache implements SessionStates {
  private readonly timeoutMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly sessions: Pick<SessionStore, 'loadState'>,
    private readonly logger: Logger,
    private readonly options: SessionStateCacheOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 500;
  }

  static key(sessionId: string): string {
    return `session-state:${sessionId}`;
  }

  async get(userId: string, sessionId: string): Promise<SessionState | undefined> {
    const cached = await this.attempt('read', () => this.redis.hgetall(SessionStateCache.key(sessionId)));
    if (cached?.['deleted']) return undefined;
    const hit = cached?.['s'] ? parseState(cached['s']) : undefined;
    const state = hit ?? (await this.rebuild(sessionId));
    return state && state.session.userId === userId ? state : undefined;
  }

  async refresh(sessionId: string): Promise<void> {
    await this.rebuild(sessionId);
  }

  async forget(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.attempt('forget', async () => {
      const pipeline = this.redis.multi();
      for (const id of sessionIds) {
        const key = SessionStateCache.key(id);
        pipeline.del(key).hset(key, 'deleted', '1').expire(key, this.options.ttlSeconds);
      }
      await pipeline.exec();
    });
  }

  /** Reads the state from PostgreSQL and stores it (unless a newer one or a tombstone is there). */
  private async rebuild(sessionId: string): Promise<SessionState | undefined> {
    const state = await this.sessions.loadState(sessionId, this.options.recentMessages);
    if (!state) return undefined;
    const version = Math.max(state.session.updatedAt.getTime(), state.session.lastActivityAt.getTime());
    await this.attempt('write', () =>
      this.redis.eval(
        WRITE_IF_NEWER,
        1,
        SessionStateCache.key(sessionId),
        String(version),
        JSON.stringify(state),
        String(this.options.ttlSeconds * 1000),
      ),
    );
    return state;
  }

  /** Runs a Redis operation; an outage (not ready, error, too slow) is logged and yields undefined. */
  private async attempt<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
    if (this.redis.status !== 'ready') {
      this.logger.warn('session state cache unavailable, using the database', {
        operation,
        redis_status: this.redis.status,
      });
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (error) {
      this.logger.warn('session state cache failed, using the database', { operation, err: error });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** JSON → state with its dates revived; anything unreadable is a miss (rebuilt from the database). */
function parseState(text: string): SessionState | undefined {
  try {
    const raw = JSON.parse(text) as SessionState;
    const session: Session = {
      ...raw.session,
      createdAt: new Date(raw.session.createdAt),
      updatedAt: new Date(raw.session.updatedAt),
      lastActivityAt: new Date(raw.session.lastActivityAt),
    };
    const recentMessages: Message[] = raw.recentMessages.map((m) => ({
      ...m,
      createdAt: new Date(m.createdAt),
    }));
    const attachments: AttachmentSummary[] = raw.attachments.map((a) => ({
      ...a,
      createdAt: new Date(a.createdAt),
    }));
    return { session, recentMessages, attachments };
  } catch {
    return undefined;
  }
}
