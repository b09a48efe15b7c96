import type { Logger } from '@te/platform';
import type { Session } from './conversation.js';
import { sessionDeletedEvent } from './conversation-events.js';
import type { SessionStates, SessionStore } from './ports.js';

const DAY_MS = 24 * 3600_000;
/** Sessions deleted per transaction; the job loops until none is left. */
const BATCH_SIZE = 100;

/**
 * Retention: deletes sessions with no activity for `retentionDays` (their messages and attachments
 * cascade), each with its `context.session.deleted` (reason `retention`). Returns how many went.
 */
export async function purgeIdleSessions(
  deps: {
    sessions: SessionStore;
    states: SessionStates;
    retentionDays: number;
    source: string;
    logger: Logger;
    /** Erases the objects of deleted sessions (object storage), when wired. */
    eraseSessionObjects?: (sessions: Session[]) => Promise<void>;
  },
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - deps.retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const deleted = await deps.sessions.deleteIdle(cutoff, BATCH_SIZE, (session) => [
      sessionDeletedEvent(session, 'retention', deps.source),
    ]);
    if (deleted.length === 0) break;
    total += deleted.length;
    await deps.states.forget(deleted.map((session) => session.id));
    await deps.eraseSessionObjects?.(deleted);
  }
  if (total > 0) deps.logger.info('idle sessions deleted', { sessions: total, cutoff: cutoff.toISOString() });
  return total;
}
