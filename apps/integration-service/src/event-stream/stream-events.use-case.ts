import { AppError, type Logger } from '@te/platform';
import { isUserVisibleEventType, USER_VISIBLE_EVENT_TYPES } from '../events/user-visible-events.js';
import { EventLog, type LoggedEvent } from './event-log.js';
import type { LiveTail } from './live-tail.js';
import { compareStreamIds, maxStreamId, parseStreamId, streamIdTime } from './stream-id.js';

export const MAX_TYPES = 20;
/** Entries read from the log per XRANGE. */
const BATCH = 100;

export interface StreamEventsInput {
  userId: string;
  /** Resume after this position; '' for live events only. */
  lastEventId: string;
  /** Only these types; empty for all. */
  types: string[];
}

export type StreamEventsMessage =
  { opened: { gap: boolean; latestStreamId: string } } | { event: LoggedEvent };

export interface StreamEventsDeps {
  log: EventLog;
  tail: LiveTail;
  logger: Logger;
  /** Open streams allowed on this replica, and per user on this replica. */
  maxOpen: number;
  maxOpenPerUser: number;
}

/**
 * The caller's event stream: `opened` (with the gap flag), the retained events after `lastEventId`,
 * then live events, until `signal` aborts (the caller went away or its deadline passed). The stream
 * reads its own log with XRANGE from its own cursor; the shared LiveTail only says when to read again.
 */
export async function* streamEvents(
  input: StreamEventsInput,
  deps: StreamEventsDeps,
  signal: AbortSignal,
): AsyncGenerator<StreamEventsMessage> {
  const wanted = validate(input);
  const { log, tail } = deps;
  const open = openCounts(tail, input.userId);
  if (open.total >= deps.maxOpen || open.mine >= deps.maxOpenPerUser) {
    throw new AppError('RATE_LIMITED', 'Too many open event streams; close one and retry');
  }
  const position = await log.position(input.userId);
  const latest = position?.latest ?? '0-0';
  const gap = input.lastEventId !== '' && hasGap(input.lastEventId, position, log.options.retentionMs);
  // Replay from the caller's position; without one, from now. Either way the tail wakes us for
  // anything after `latest`, and we read everything after `cursor` ourselves: nothing falls between.
  let cursor = input.lastEventId === '' ? latest : input.lastEventId;
  const subscription = tail.subscribe(EventLog.key(input.userId), latest);
  deps.logger.debug('event stream opened', { gap, open_streams: tail.stats.streams });
  try {
    yield { opened: { gap, latestStreamId: position ? latest : '' } };
    while (!signal.aborted) {
      await subscription.changed(signal);
      for (let full = true; full && !signal.aborted;) {
        const batch = await log.readAfter(input.userId, cursor, BATCH);
        full = batch.length === BATCH;
        for (const entry of batch) {
          cursor = maxStreamId(cursor, entry.streamId);
          if (!wanted || wanted.has(entry.type)) yield { event: entry };
        }
      }
    }
  } finally {
    subscription.close();
    deps.logger.debug('event stream closed', { open_streams: tail.stats.streams });
  }
}

function validate(input: StreamEventsInput): Set<string> | undefined {
  const fields: { field: string; message: string }[] = [];
  if (input.lastEventId !== '' && !parseStreamId(input.lastEventId)) {
    fields.push({ field: 'last_event_id', message: 'must be an event stream id such as 1767323045678-0' });
  }
  if (input.types.length > MAX_TYPES) {
    fields.push({ field: 'types', message: `at most ${MAX_TYPES} types` });
  }
  const unknown = input.types.filter((type) => !isUserVisibleEventType(type));
  if (unknown.length > 0) {
    fields.push({
      field: 'types',
      message: `unknown event types: ${unknown.slice(0, 5).join(', ').slice(0, 200)} (known: ${USER_VISIBLE_EVENT_TYPES.join(', ')})`,
    });
  }
  if (fields.length > 0) throw new AppError('VALIDATION_FAILED', 'Invalid event stream request', { fields });
  return input.types.length > 0 ? new Set(input.types) : undefined;
}

/**
 * Whether events after `lastEventId` may be gone: something after it was trimmed (Redis records the
 * newest trimmed position), or it is older than the retention (the log may have expired and started
 * anew since). The second errs on the side of "maybe": a client that was idle for longer than the
 * retention is told to resynchronise.
 */
function hasGap(
  lastEventId: string,
  position: { maxDeleted: string } | undefined,
  retentionMs: number,
): boolean {
  if (position && compareStreamIds(position.maxDeleted, lastEventId) > 0) return true;
  // "0-0" asks for everything retained: only trimming (above) makes that incomplete.
  if (lastEventId === '0-0') return false;
  return streamIdTime(lastEventId) < Date.now() - retentionMs;
}

function openCounts(tail: LiveTail, userId: string): { total: number; mine: number } {
  return { total: tail.stats.streams, mine: tail.streamsOf(EventLog.key(userId)) };
}
