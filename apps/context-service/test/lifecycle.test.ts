import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createEvent } from '@te/events';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { SESSION_RETENTION_JOB } from '../src/app.js';
import { SessionStateCache } from '../src/db/session-state.cache.js';
import {
  callsAs,
  createContextEnv,
  failure,
  observeEvents,
  queryPool,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';

const RETENTION_DAYS = 30;

// Account deletion and retention, with the service in-process on real PostgreSQL, Redis and RabbitMQ.
describe('lifecycle: user.deleted erasure and the idle-session retention job', () => {
  let env: ServiceTestEnv;
  let service: RunningContextService;
  let db: pg.Pool;
  let events: Awaited<ReturnType<typeof observeEvents>>;
  const erasedObjects: string[] = [];

  beforeAll(async () => {
    env = await createContextEnv();
    service = await startContextService(
      env,
      { SESSION_RETENTION_DAYS: String(RETENTION_DAYS) },
      {
        eraseUserObjects: async (userId) => {
          erasedObjects.push(userId);
        },
      },
    );
    db = queryPool(env);
    events = await observeEvents(env, 'test-observer.lifecycle', ['context.session.deleted']);
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await service?.stop();
    await db?.end();
    await env?.cleanup();
  }, 60_000);

  const count = async (table: string, userId: string) =>
    (await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [userId])).rows[0]
      .n as number;

  async function sessionWithContent(userId: string) {
    const user = callsAs(service.client, userId);
    const { session } = await user.create({ title: 'notes' });
    await user.post({ sessionId: session!.id, content: 'something personal' });
    await db.query(
      `INSERT INTO attachments (id, session_id, user_id, object_key, content_type, size_bytes, sha256)
       VALUES ($1, $2, $3, 'k', 'image/png', 1, 'x')`,
      [randomUUID(), session!.id, userId],
    );
    await user.get(session!.id); // cached
    return session!.id;
  }

  it('When user.deleted arrives (twice), then that user’s sessions, messages, attachments, cached state and objects are erased once, and no one else’s', async () => {
    const aliceId = randomUUID();
    const bobId = randomUUID();
    const aliceSessions = [await sessionWithContent(aliceId), await sessionWithContent(aliceId)];
    const bobSession = await sessionWithContent(bobId);
    const event = createEvent({
      type: 'user.deleted',
      source: 'user-service',
      subject: aliceId,
      data: { user_id: aliceId, deleted_at: new Date().toISOString() },
    });

    await service.app.bus.publish(event);
    await service.app.bus.publish(event);

    await waitFor(async () => (await count('sessions', aliceId)) === 0 && erasedObjects.includes(aliceId), {
      timeoutMs: 15_000,
      description: "alice's sessions erased",
    });
    await waitFor(
      async () =>
        (await db.query('SELECT count(*)::int AS n FROM processed_events WHERE event_id = $1', [event.id]))
          .rows[0].n === 1,
      { timeoutMs: 10_000, description: 'the event recorded as processed' },
    );
    expect([await count('messages', aliceId), await count('attachments', aliceId)]).toEqual([0, 0]);
    for (const id of aliceSessions) {
      expect(await service.app.redis.hget(SessionStateCache.key(id), 's')).toBeNull();
      expect((await failure(callsAs(service.client, aliceId).get(id))).code).toBe('NOT_FOUND');
    }
    expect(erasedObjects.filter((id) => id === aliceId)).toHaveLength(1);
    expect([
      await count('sessions', bobId),
      await count('messages', bobId),
      await count('attachments', bobId),
    ]).toEqual([1, 2, 1]); // bob's question and its (sync) reply
    expect((await callsAs(service.client, bobId).get(bobSession)).session?.id).toBe(bobSession);
  });

  it('When the retention job runs, then sessions idle past SESSION_RETENTION_DAYS go with their messages and context.session.deleted (retention); active ones stay', async () => {
    const userId = randomUUID();
    const idle = await sessionWithContent(userId);
    const active = await sessionWithContent(userId);
    await db.query(`UPDATE sessions SET last_activity_at = now() - make_interval(days => $2) WHERE id = $1`, [
      idle,
      RETENTION_DAYS + 1,
    ]);
    await db.query(`UPDATE sessions SET last_activity_at = now() - make_interval(days => $2) WHERE id = $1`, [
      active,
      RETENTION_DAYS - 1,
    ]);

    await runJobNow(SESSION_RETENTION_JOB);

    const { rows } = await db.query('SELECT id::text FROM sessions WHERE user_id = $1', [userId]);
    expect(rows).toEqual([{ id: active }]);
    expect(
      (await db.query('SELECT count(*)::int AS n FROM messages WHERE session_id = $1', [idle])).rows[0].n,
    ).toBe(0);
    expect(await service.app.redis.hget(SessionStateCache.key(idle), 's')).toBeNull();
    await waitFor(() => events.received.some((e) => e.subject === idle), {
      timeoutMs: 10_000,
      description: 'context.session.deleted for the idle session',
    });
    expect(events.received.find((e) => e.subject === idle)!.data).toMatchObject({
      session_id: idle,
      user_id: userId,
      reason: 'retention',
    });
    expect(events.received.some((e) => e.subject === active)).toBe(false);
  });

  /** Runs a scheduled job now: releases the lock its last run keeps for its interval, then ticks it. */
  async function runJobNow(job: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await service.app.redis.del(`scheduler:context-service:${job}`);
      if (await service.app.scheduler.tick(job)) return;
      await new Promise((resolve) => setTimeout(resolve, 200)); // its periodic run got there first
    }
    throw new Error(`job ${job} did not run`);
  }
});
