import type { Logger } from '@te/platform';
import { sessionDeletedEvent } from './conversation-events.js';
import type { ReleaseObjects, SessionStates, SessionStore } from './ports.js';

const DAY_MS = 24 * 3600_000;
/** Sessions deleted per transaction; the job loops until none is left. */
const BATCH_SIZE = 100;

/**
 * Retention: deletes sessions with no activity for `retentionDays` (their messages and attachments
 * cascade), each with its `context.session.deleted` (reason `retention`), then the stored objects no
 * attachment references any more. Returns how many went.
 */
export async function purgeIdleSessions(
  deps: {
    sessions: SessionStore;
    states: SessionStates;
    retentionDays: number;
    source: string;
    logger: Logger;
    /** Removes stored objects no attachment references any more, after each batch (when wired). */
    releaseObjects?: ReleaseObjects;
  },
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - deps.retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const { sessions, objectKeys } = await deps.sessions.deleteIdle(cutoff, BATCH_SIZE, (session) => [
      sessionDeletedEvent(session, 'retention', deps.source),
    ]);
    if (sessions.length === 0) break;
    total += sessions.length;
    await deps.states.forget(sessions.map((session) => session.id));
    await deps.releaseObjects?.(objectKeys);
  }
  if (total > 0) deps.logger.info('idle sessions deleted', { sessions: total, cutoff: cutoff.toISOString() });
  return total;
}
