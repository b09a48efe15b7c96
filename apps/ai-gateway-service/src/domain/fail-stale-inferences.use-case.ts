import { AppError, type Logger } from '@te/platform';
import { failUnattempted, timedOut } from './run-queued-inference.use-case.js';
import type { QueuedInferenceDeps } from './submit-inference.use-case.js';

const BATCH = 100;

/**
 * The sweeper: queued inferences still unsettled `timeoutMs + marginMs` after submission (no worker
 * took the job, or its job was dead-lettered) fail with DEADLINE_EXCEEDED and ai.inference.failed.
 * A worker gives its provider call at most `timeoutMs` from submission, so the margin keeps the sweeper
 * from failing one that is about to complete. One replica runs it at a time (the scheduler's lock).
 */
export async function failStaleInferences(
  deps: QueuedInferenceDeps & { timeoutMs: number; marginMs: number; logger: Logger },
): Promise<number> {
  const cutoff = new Date(deps.inference.clock().getTime() - deps.timeoutMs - deps.marginMs);
  let failed = 0;
  for (;;) {
    const stale = await deps.queued.listUnsettled(cutoff, BATCH);
    for (const inference of stale) {
      const error = new AppError('DEADLINE_EXCEEDED', timedOut(deps.timeoutMs));
      if (await failUnattempted(inference, error, deps)) failed++;
    }
    if (stale.length < BATCH) break;
  }
  if (failed) deps.logger.warn('queued inferences failed: not answered in time', { failed });
  return failed;
}
