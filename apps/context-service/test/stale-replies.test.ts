import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ServiceTestEnv } from '@te/testing';
import { STALE_REPLIES_JOB } from '../src/app.js';
import {
  callsAs,
  createContextEnv,
  queryPool,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';

// The reply worker is off, as if every job had been dead-lettered: only the sweeper can settle replies.
describe('async replies left pending (their job dead-lettered)', () => {
  let env: ServiceTestEnv;
  let service: RunningContextService;
  let db: pg.Pool;

  beforeAll(async () => {
    env = await createContextEnv();
    service = await startContextService(env, {
      REPLY_WORKER_ENABLED: 'false',
      OCR_WORKER_ENABLED: 'false',
      REPLY_GIVE_UP_MS: '60000',
      REPLY_SWEEP_MARGIN_MS: '60000',
      // Ticked by the test, not by the clock.
      REPLY_SWEEP_INTERVAL_MS: '3600000',
    });
    db = queryPool(env);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await db?.end();
    await env?.cleanup();
  }, 60_000);

  it('When a pending reply is older than REPLY_GIVE_UP_MS + the margin, then the sweeper marks it failed with DEADLINE_EXCEEDED, and a younger one stays pending', async () => {
    const calls = callsAs(service.client, randomUUID());
    const { session } = await calls.create({});
    const old = await calls.post({ sessionId: session!.id, content: 'long ago', mode: 'async' });
    const recent = await calls.post({ sessionId: session!.id, content: 'just now', mode: 'async' });
    // Asked for 121 s ago: past give-up (60 s) + margin (60 s).
    await db.query(`UPDATE messages SET created_at = now() - interval '121 seconds' WHERE id = ANY($1)`, [
      [old.message!.id, old.reply!.id],
    ]);
    // The pending reply is in the cached session state before the sweep.
    await calls.messages({ sessionId: session!.id });

    // The host's own first run (within 5 s of start) may already hold the lock for its interval.
    await service.app.redis.del(`scheduler:context-service:${STALE_REPLIES_JOB}`);
    expect(await service.app.scheduler.tick(STALE_REPLIES_JOB)).toBe(true);

    const listed = (await calls.messages({ sessionId: session!.id })).messages!;
    expect(listed.map((m) => [m.id, m.status, m.errorCode])).toEqual([
      [old.message!.id, 'stored', ''],
      [old.reply!.id, 'failed', 'DEADLINE_EXCEEDED'],
      [recent.message!.id, 'stored', ''],
      [recent.reply!.id, 'pending', ''],
    ]);
    const state = JSON.parse((await service.app.redis.hget(`session-state:${session!.id}`, 's'))!);
    expect(state.recentMessages.find((m: { id: string }) => m.id === old.reply!.id)).toMatchObject({
      status: 'failed',
      errorCode: 'DEADLINE_EXCEEDED',
    });
    expect(service.logs.lines().filter((line) => line['message'] === 'stale async replies failed')).toEqual([
      expect.objectContaining({ replies: 1, error_code: 'DEADLINE_EXCEEDED' }),
    ]);
    // Like the worker's own failure path: nothing is published for a failed reply.
    const { rows } = await db.query(
      `SELECT type FROM outbox_events WHERE envelope->'data'->>'reply_id' = $1 OR envelope->'data'->>'message_id' = $1`,
      [old.reply!.id],
    );
    expect(rows.map((row) => row.type)).toEqual(['context.reply.requested']);
  });
});
