import type { Redis } from '@te/platform';

/** One entry of a user's log: the envelope's public fields, as stored. */
export interface LoggedEvent {
  /** Position in the user's log (`<ms>-<seq>`). */
  streamId: string;
  id: string;
  type: string;
  occurredAt: string;
  dataJson: string;
}

/** What the log looks like now: its newest position and the newest position ever trimmed away. */
export interface LogPosition {
  latest: string;
  maxDeleted: string;
}

export interface EventLogOptions {
  /** Entries older than this are trimmed on the next append; an idle log expires after it. */
  retentionMs: number;
  /** At most this many entries per user (the oldest go first). */
  maxPerUser: number;
}

// One script per append, so a redelivered event (same id) can never be appended twice, not even by
// two replicas at once, and trimming, the id memory and the expiry move together.
// KEYS: stream, ids (sorted set: event id → append time ms), tombstone (user deleted).
// ARGV: event id, retention ms, max entries, type, occurred_at, data JSON.
// Redis's own clock decides the cut-off, the same clock that numbers the entries. Trimming ends with
// XDEL of the newest entry removed, because XDEL (unlike XTRIM) records it as the stream's
// max-deleted-entry-id: that is how a resume finds out that events after its position are gone.
const APPEND = `
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = string.format('%.0f', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. oldest)
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[1], '*',
  'id', ARGV[1], 'type', ARGV[4], 'occurred_at', ARGV[5], 'data', ARGV[6])
local function remove_through(last)
  redis.call('XTRIM', KEYS[1], 'MINID', last)
  redis.call('XDEL', KEYS[1], last)
end
local expired = redis.call('XREVRANGE', KEYS[1], '(' .. oldest .. '-0', '-', 'COUNT', 1)
if #expired > 0 then remove_through(expired[1][1]) end
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  local surplus = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  remove_through(surplus[#surplus][1])
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -2 * tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return id
`;

/**
 * The per-user event log (decision 0021): a Redis Stream per user, `events:{<user id>}` under the
 * service's key prefix (the braces are a Redis Cluster hash tag: a user's keys share a slot, so the
 * append script may touch them all). Beside it `events:{<user id>}:ids` remembers the event ids
 * appended within the retention (redeliveries are recognised) and `events:{<user id>}:deleted` marks an
 * erased user for one retention period, so a late event cannot bring the log back.
 */
export class EventLog {
  constructor(
    private readonly redis: Redis,
    readonly options: EventLogOptions,
  ) {}

  /** The stream's key (without the service prefix): what the live tail watches. */
  static key(userId: string): string {
    return `events:{${userId}}`;
  }

  /** Appends one event to its owner's log; undefined when it was already there (or the user is erased). */
  async append(
    userId: string,
    event: { id: string; type: string; occurredAt: string; dataJson: string },
  ): Promise<string | undefined> {
    const key = EventLog.key(userId);
    const id = await this.redis.eval(
      APPEND,
      3,
      key,
      `${key}:ids`,
      `${key}:deleted`,
      event.id,
      String(this.options.retentionMs),
      String(this.options.maxPerUser),
      event.type,
      event.occurredAt,
      event.dataJson,
    );
    return typeof id === 'string' ? id : undefined;
  }

  /** Erases a user's log and refuses appends for one retention period (late or redelivered events). */
  async deleteUser(userId: string): Promise<void> {
    const key = EventLog.key(userId);
    await this.redis
      .multi()
      .del(key, `${key}:ids`)
      .set(`${key}:deleted`, '1', 'PX', this.options.retentionMs)
      .exec();
  }

  /** The log's newest and newest-trimmed positions; undefined when the user has no log. */
  async position(userId: string): Promise<LogPosition | undefined> {
    let info: unknown[];
    try {
      info = (await this.redis.xinfo('STREAM', EventLog.key(userId))) as unknown[];
    } catch (error) {
      if (/no such key/i.test(String((error as Error)?.message))) return undefined;
      throw error;
    }
    const field = (name: string) => String(info[info.indexOf(name) + 1] ?? '0-0');
    return { latest: field('last-generated-id'), maxDeleted: field('max-deleted-entry-id') };
  }

  /** Up to `count` entries after `cursor` (exclusive), oldest first. */
  async readAfter(userId: string, cursor: string, count: number): Promise<LoggedEvent[]> {
    const entries = await this.redis.xrange(EventLog.key(userId), `(${cursor}`, '+', 'COUNT', count);
    return entries.map(([streamId, fields]) => {
      const values = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) values.set(String(fields[i]), String(fields[i + 1]));
      return {
        streamId,
        id: values.get('id') ?? '',
        type: values.get('type') ?? '',
        occurredAt: values.get('occurred_at') ?? '',
        dataJson: values.get('data') ?? 'null',
      };
    });
  }
}
