import { env } from '@te/platform';
import { z } from 'zod';

const bounded = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** The per-user event log and the event stream (decision 0021); spread into the service's schema. */
export const eventStreamConfigFragment = {
  EVENT_LOG_RETENTION_SECONDS: bounded(7 * 86_400, 30 * 86_400).describe(
    'how long a user’s events stay replayable (an idle log expires after it); at most 30 days',
  ),
  EVENT_LOG_MAX_PER_USER: bounded(1000, 100_000).describe(
    'at most this many events per user log; the oldest are trimmed first',
  ),
  EVENT_STREAM_MAX_OPEN: env.positiveInt(10_000).describe('open event streams per replica'),
  EVENT_STREAM_MAX_PER_USER: env.positiveInt(10).describe('open event streams per user on one replica'),
};
