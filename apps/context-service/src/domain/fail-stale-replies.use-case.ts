import type { Logger } from '@te/platform';
import type { MessageStore, SessionStates } from './ports.js';

/** Replies failed per batch; the job loops until none is left. */
const BATCH_SIZE = 100;

/** What a reply left pending past its give-up time becomes: its job never ran to an end in time. */
export const STALE_REPLY_ERROR_CODE = 'DEADLINE_EXCEEDED';

/**
 * The async reply gap: the reply worker gives up on a job REPLY_GIVE_UP_MS after it was asked for,
 * but the bus dead-letters a job after its bounded retries, possibly earlier, and a dead-lettered job
 * is never consumed again: its reply would stay "pending" forever. This marks every reply still
 * pending `giveUpMs + marginMs` after it was asked for as failed with DEADLINE_EXCEEDED, exactly as
 * the worker's own failure path does (settleReply, which only changes a pending reply, so a worker
 * completing it at the same moment wins or loses cleanly; no event, like that path). Returns how many.
 */
export async function failStaleReplies(
  deps: {
    messages: Pick<MessageStore, 'stalePending' | 'settleReply'>;
    states: SessionStates;
    giveUpMs: number;
    marginMs: number;
    logger: Logger;
  },
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - deps.giveUpMs - deps.marginMs);
  let total = 0;
  for (;;) {
    const ids = await deps.messages.stalePending(cutoff, BATCH_SIZE);
    if (ids.length === 0) break;
    const sessions = new Set<string>();
    for (const id of ids) {
      const failed = await deps.messages.settleReply(id, { errorCode: STALE_REPLY_ERROR_CODE }, () => []);
      if (!failed) continue;
      total += 1;
      sessions.add(failed.sessionId);
    }
    for (const sessionId of sessions) await deps.states.refresh(sessionId);
    if (ids.length < BATCH_SIZE) break;
  }
  if (total > 0)
    deps.logger.warn('stale async replies failed', {
      replies: total,
      cutoff: cutoff.toISOString(),
      error_code: STALE_REPLY_ERROR_CODE,
    });
  return total;
}
